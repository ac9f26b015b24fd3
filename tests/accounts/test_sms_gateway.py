"""The HTTP SMS gateway sender: what the gateway receives, and the same key on every attempt."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts import channels
from accounts.models import Delivery, Notification
from accounts.tasks import deliver_notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway(settings):
    """A gateway on this machine that answers each POST with the next status of ``answers``."""
    received: list[dict] = []
    answers: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append({"headers": dict(self.headers), "body": body})
            self.send_response(answers.pop(0) if answers else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.SMS_SENDER = "accounts.channels.HttpSmsSender"
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{server.server_address[1]}/send"
    settings.SMS_GATEWAY_TOKEN = "gateway-token"
    channels._load.cache_clear()
    yield received, answers
    server.shutdown()
    channels._load.cache_clear()


def test_every_attempt_at_one_text_carries_the_same_key(gateway, holder):
    received, answers = gateway
    holder.user.notify_email = False
    holder.user.save()
    notification = Notification.objects.create(person=holder, kind="payment", subject="支付提醒", body="您支付了 ¥12.00。")
    answers.append(503)  # the gateway fails once: the relay tries again later
    assert deliver_notification(notification.pk) == 0
    assert deliver_notification(notification.pk) == 1
    assert deliver_notification(notification.pk) == 0  # sent: never again
    assert len(received) == 2
    keys = {r["headers"]["Idempotency-Key"] for r in received}
    assert keys == {f"notification-{notification.pk}-sms"} == {r["body"]["id"] for r in received}
    first = received[0]
    assert first["headers"]["Authorization"] == "Bearer gateway-token"
    assert first["body"]["phone"] == "13800000001" and first["body"]["text"] == "支付提醒\n您支付了 ¥12.00。"
    delivery = Delivery.objects.get(notification=notification, channel="sms")
    assert delivery.sent_at is not None and delivery.attempts == 2 and delivery.address != "13800000001"
