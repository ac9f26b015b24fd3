"""Pluggable senders for text messages and e-mail.

A sender is a class with ``send(address, subject, body)`` that raises on failure. Which class
is used comes from settings (PORTAL_SMS_SENDER, PORTAL_EMAIL_SENDER), so production plugs in a
gateway without code changes. Development prints to the console; tests collect in memory.
"""

from __future__ import annotations

import json
import logging
import sys
import urllib.request
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

from .idnumbers import mask_address

logger = logging.getLogger(__name__)


@dataclass
class SentMessage:
    channel: str
    address: str
    subject: str
    body: str


# Messages "sent" by MemorySender, for tests.
outbox: list[SentMessage] = []


class ConsoleSender:
    channel = "console"

    def send(self, address: str, subject: str, body: str) -> None:
        # The console is a log: the address is masked there (the text itself is what developers need).
        sys.stdout.write(f"\n=== message to {mask_address('email' if '@' in address else 'sms', address)} ===\n"
                         f"{subject}\n{body}\n===\n")
        sys.stdout.flush()


class MemorySender:
    def __init__(self, channel: str = "memory") -> None:
        self.channel = channel

    def send(self, address: str, subject: str, body: str) -> None:
        outbox.append(SentMessage(self.channel, address, subject, body))


class DjangoEmailSender:
    """E-mail through Django's configured EMAIL_BACKEND (SMTP in production)."""

    def send(self, address: str, subject: str, body: str) -> None:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])


class HttpSmsSender:
    """Posts JSON {phone, text, id} to an SMS gateway (PORTAL_SMS_GATEWAY_URL, bearer token).

    ``id`` (also the ``Idempotency-Key`` header) is the same for every attempt at one message on
    one channel: a worker that dies after the gateway accepted a text but before it recorded
    the send tries again later, and a gateway that keeps the keys it has seen sends it once."""

    accepts_key = True  # (accounts.tasks passes ``key``; senders without this attribute get none)

    def send(self, address: str, subject: str, body: str, key: str = "") -> None:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {settings.SMS_GATEWAY_TOKEN}"}
        if key:
            headers["Idempotency-Key"] = key
        request = urllib.request.Request(  # noqa: S310 - the operator's configured gateway URL
            settings.SMS_GATEWAY_URL,
            data=json.dumps({"phone": address, "text": f"{subject}\n{body}", "id": key}).encode(),
            headers=headers,
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - configured URL
            if response.status >= 300:
                raise RuntimeError(f"SMS gateway answered {response.status}")


@lru_cache(maxsize=8)
def _load(path: str) -> object:
    return import_string(path)()


def get_sender(channel: str) -> ConsoleSender | MemorySender | DjangoEmailSender | HttpSmsSender:
    path = settings.SMS_SENDER if channel == "sms" else settings.EMAIL_SENDER
    return _load(path)  # type: ignore[return-value]
