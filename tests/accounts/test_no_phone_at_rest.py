"""No personal number in clear at rest: after texts were sent, no row of any table holds the phone."""

from __future__ import annotations

import importlib
import logging

import pytest
from django.apps import apps
from django.db import models
from django.db.models.functions import Cast
from django.urls import reverse

from accounts.channels import ConsoleSender
from accounts.models import Delivery, Notification
from accounts.notifications import notify
from accounts.tasks import deliver_notification
from tests.conftest import make_citizen, make_person

pytestmark = pytest.mark.django_db

PHONE = "13912345678"


def rows_holding(text: str) -> list[str]:
    """Every (table.column) of every model whose value contains ``text``, JSON included."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if isinstance(field, (models.CharField, models.TextField)):
                hits = model._default_manager.filter(**{f"{field.name}__contains": text})
            elif isinstance(field, models.JSONField):
                hits = model._default_manager.annotate(_text=Cast(field.name, models.TextField())).filter(
                    _text__contains=text)
            else:
                continue
            if hits.exists():
                found.append(f"{model._meta.db_table}.{field.column}")
    return found


def test_after_codes_notices_and_log_ins_no_table_holds_the_phone_number(
    client, sent_messages, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.DEBUG)
    person = make_person("黄志强", birth="1960-08-18", sex="M", phone=PHONE)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:signup"), {"id_number": person.id_number, "name": person.name})
    code = next(m for m in sent_messages if m.address == PHONE).body
    code = "".join(ch for ch in code if ch.isdigit())[:6]
    response = client.post(reverse("accounts:signup-verify"),
                           {"code": code, "password1": "Quiet-River-2026", "password2": "Quiet-River-2026"})
    assert response.status_code == 302
    client.post(reverse("accounts:logout"))
    # A failed log-in typed with the phone number (django-axes keeps attempts).
    client.post(reverse("accounts:login"), {"username": PHONE, "password": "wrong-password"})
    # A notice by text and by e-mail, and a password reset code.
    user = person.user
    user.notify_email, user.email = True, "huang@example.com"
    user.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify(person, "test", "Subject", "Body")
        client.post(reverse("accounts:reset"), {"id_number": person.id_number})
    assert [m.address for m in sent_messages].count(PHONE) == 3  # the texts really went to the phone
    assert Delivery.objects.filter(channel="sms").count() == 3
    assert set(Delivery.objects.filter(channel="sms").values_list("address", flat=True)) == {"139****5678"}
    assert Delivery.objects.get(channel="email").address == "h***@example.com"

    assert rows_holding(PHONE) == []
    assert rows_holding(person.id_number) == []
    assert PHONE not in caplog.text and person.id_number not in caplog.text


def test_the_phone_is_read_from_the_registry_at_send_time(sent_messages):
    person = make_person("黄志强", birth="1960-08-18", sex="M", phone=PHONE)
    make_citizen(person)
    notification = notify(person, "test", "Subject", "Body")
    person.phone = "13700000000"
    person.save()
    deliver_notification(notification.pk)
    assert [m.address for m in sent_messages] == ["13700000000"]


def test_existing_deliveries_are_masked_by_the_data_migration(holder):
    notification = Notification.objects.create(person=holder, kind="test", subject="s", body="b")
    sms = Delivery.objects.create(notification=notification, channel="sms", address=PHONE)
    mail = Delivery.objects.create(notification=notification, channel="email", address="zhang.wei@example.com")
    assert rows_holding(PHONE) == ["accounts_delivery.address"]  # the scan finds a number in clear
    migration = importlib.import_module("accounts.migrations.0008_delivery_address_masked")
    migration.mask_addresses(apps, None)
    sms.refresh_from_db()
    mail.refresh_from_db()
    assert (sms.address, mail.address) == ("139****5678", "z***@example.com")
    assert rows_holding(PHONE) == []


def test_the_console_sender_masks_the_address(capsys):
    ConsoleSender().send(PHONE, "Subject", "Your code is 123456.")
    out = capsys.readouterr().out
    assert PHONE not in out and "139****5678" in out and "123456" in out
