"""Notifications: the inbox row is an outbox written with the change; delivery after commit, once."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import channels
from accounts.models import CodePurpose, Delivery, Notification, User
from accounts.notifications import notify
from accounts.services import send_one_time_code
from accounts.tasks import deliver_notification_task, relay_outbox_task

SUBJECT = _("Your relative asked to share")
BODY = _("%(name)s would like to use your balance.")


def _notify(person, **extra):
    return notify(person, "binding_request", SUBJECT, BODY, {"name": "李秀英"}, **extra)


def _later(seconds: int = 60):
    return time_machine.travel(timezone.now() + datetime.timedelta(seconds=seconds))


@pytest.mark.django_db
def test_a_notification_in_a_rolled_back_transaction_sends_nothing(holder, sent_messages, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        _notify(holder)
        raise RuntimeError("the change failed")
    assert callbacks == []
    assert not Notification.objects.exists()
    assert sent_messages == []


@pytest.mark.django_db(transaction=True)
def test_a_committed_notification_lands_in_the_inbox_and_is_texted_once(holder, sent_messages):
    with transaction.atomic():
        notification = _notify(holder)
        assert sent_messages == []  # nothing leaves before the commit
    assert [(m.address, m.subject) for m in sent_messages] == [("13800000001", notification.subject)]
    notification.refresh_from_db()
    assert notification.relayed_at is not None
    assert Delivery.objects.get(notification=notification).sent_at is not None


@pytest.mark.django_db
def test_delivering_twice_sends_once(holder, sent_messages):
    notification = _notify(holder)  # on_commit never fires inside the test transaction
    deliver_notification_task.delay(notification.pk)
    deliver_notification_task.delay(notification.pk)
    deliver_notification_task(notification.pk)
    assert len(sent_messages) == 1
    assert Delivery.objects.filter(notification=notification).count() == 1


@pytest.mark.django_db
def test_the_relay_delivers_a_notification_whose_enqueue_was_lost(holder, sent_messages):
    notification = _notify(holder)  # committed, but the process died before enqueueing
    assert relay_outbox_task() == 0  # too fresh: its own enqueue may still be on the way
    with _later(60):
        assert relay_outbox_task() == 1
    assert len(sent_messages) == 1
    notification.refresh_from_db()
    assert notification.relayed_at is not None
    with _later(120):
        assert relay_outbox_task() == 0  # delivered: never picked up again
    assert len(sent_messages) == 1


@pytest.mark.django_db
def test_a_failed_send_is_retried_by_the_relay(holder, sent_messages, monkeypatch):
    notification = _notify(holder)
    real_send = channels.MemorySender.send

    def gateway_down(self, address, subject, body):
        raise ConnectionError("SMS gateway unreachable")

    monkeypatch.setattr(channels.MemorySender, "send", gateway_down)
    deliver_notification_task(notification.pk)
    notification.refresh_from_db()
    assert notification.relayed_at is None
    assert "unreachable" in Delivery.objects.get(notification=notification).error
    monkeypatch.setattr(channels.MemorySender, "send", real_send)
    with _later(60):
        relay_outbox_task()
    assert len(sent_messages) == 1


@pytest.mark.django_db
def test_it_follows_the_persons_channel_choices(holder, sent_messages):
    User.objects.filter(person=holder).update(notify_sms=False, notify_email=True, email="zhang.wei@example.com")
    holder.refresh_from_db()
    deliver_notification_task(_notify(holder).pk)
    assert [m.address for m in sent_messages] == ["zhang.wei@example.com"]


@pytest.mark.django_db
def test_a_person_who_wants_no_messages_still_gets_the_inbox_row(holder, sent_messages):
    User.objects.filter(person=holder).update(notify_sms=False, notify_email=False)
    holder.refresh_from_db()
    notification = _notify(holder)
    deliver_notification_task(notification.pk)
    assert sent_messages == []
    notification.refresh_from_db()
    assert notification.relayed_at is not None
    assert Notification.objects.filter(person=holder).count() == 1


@pytest.mark.django_db
def test_it_writes_in_the_persons_language(holder):
    User.objects.filter(person=holder).update(language="en")
    holder.refresh_from_db()
    notification = _notify(holder)
    assert notification.subject == "Your relative asked to share"
    assert notification.body == "李秀英 would like to use your balance."


@pytest.mark.django_db
def test_a_dedupe_key_makes_a_second_notice_of_the_same_event_a_no_op(holder):
    assert _notify(holder, dedupe_key="binding-7-request") is not None
    assert _notify(holder, dedupe_key="binding-7-request") is None
    assert Notification.objects.count() == 1


@pytest.mark.django_db
def test_one_time_codes_go_by_text_even_when_texts_are_off_and_are_scrubbed_after_delivery(holder, sent_messages):
    User.objects.filter(person=holder).update(notify_sms=False, notify_email=True, email="zhang.wei@example.com")
    holder.refresh_from_db()
    send_one_time_code(holder, CodePurpose.PASSWORD_RESET)
    notification = Notification.objects.get(person=holder, kind="one_time_code")
    deliver_notification_task(notification.pk)
    assert [m.address for m in sent_messages] == [holder.phone]  # never by e-mail
    code = re.search(r"\d{6}", sent_messages[0].body).group(0)
    notification.refresh_from_db()
    assert code not in notification.body
    assert not re.search(r"\d{6}", notification.body)


@pytest.mark.django_db
def test_codes_are_not_listed_in_the_inbox_page(client, holder):
    User.objects.filter(person=holder).update(language="en")
    holder.refresh_from_db()
    send_one_time_code(holder, CodePurpose.PASSWORD_RESET)
    _notify(holder)
    client.force_login(holder.user)
    page = client.get("/accounts/inbox/").content.decode()
    assert "Your relative asked to share" in page
    assert "李秀英 would like to use your balance." in page
    assert "Your family pooling portal code" not in page
    assert "Your code is" not in page


@pytest.mark.django_db
def test_reading_a_message_marks_it_read_and_only_the_owner_can(client, holder, outsider):
    notification = _notify(holder, link="/dashboard/")
    client.force_login(outsider.user)
    assert client.post(f"/accounts/inbox/{notification.pk}/read/").status_code == 404
    client.force_login(holder.user)
    response = client.post(f"/accounts/inbox/{notification.pk}/read/")
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    notification.refresh_from_db()
    assert notification.read_at is not None
