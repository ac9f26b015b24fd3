"""Redis stopped while bindings and payments happen: the portal and the settlement API keep
working, and once Redis is back every notification is delivered exactly once (outbox relay)."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from accounts.idnumbers import mask_address
from accounts.models import Delivery, Notification, User
from accounts.tasks import relay_outbox_task
from payments import ledger
from payments.institutions import create_institution
from payments.vouchers import issue_voucher
from pooling.common import By
from pooling.proposals import consent_binding, propose_binding

from .realparts import RedisServer, Worker, broker, wait_for, worker_env
from .senders import read_log

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.redis,
              pytest.mark.django_db(transaction=True)]


def _timed(action: Any) -> tuple[Any, float]:
    start = time.monotonic()
    result = action()
    return result, time.monotonic() - start


def _all_delivered() -> bool:
    return not Notification.objects.filter(relayed_at__isnull=True).exists()


def test_it_delivers_every_notification_once_after_redis_comes_back(
    require_postgres: None, require_redis: str, holder: Any, mother: Any, tmp_path: Path
) -> None:
    log = str(tmp_path / "sent.jsonl")
    redis = RedisServer()
    redis.start()
    env = worker_env(redis.url, PORTAL_SMS_SENDER="tests.statements.senders.FileSender",
                     PORTAL_EMAIL_SENDER="tests.statements.senders.FileSender", PORTAL_SENDER_LOG=log)
    worker = Worker(env, tmp_path / "worker.log", "outage")
    holder_user, mother_user = User.objects.get(person=holder), User.objects.get(person=mother)
    ledger.credit_personal_account(holder, 500_000, reference="outage-credit-1")
    with transaction.atomic():
        _, api_key = create_institution("OUT-H1", "海口市人民医院", "hospital", "460100")
    api = Client(headers={"Authorization": f"Bearer {api_key}"})
    portal = Client()
    portal.force_login(holder_user)
    try:
        worker.start()
        with broker(redis.url):
            # Redis up: the binding request reaches the mother at once.
            binding = propose_binding(holder, mother, "parent", By(holder, holder_user))
            wait_for(_all_delivered, 20, "the first notification")
            before_outage = Notification.objects.count()

            redis.stop()
            _, took = _timed(lambda: consent_binding(binding, By(mother, mother_user)))
            assert took < 3, f"consenting took {took:.1f}s while Redis was down"
            response, took = _timed(lambda: portal.get("/dashboard/"))
            assert response.status_code == 200 and took < 3
            for i in range(5):
                code = issue_voucher(mother)[1]
                body = {"voucher": code, "category": "outpatient", "amount_fen": 1_000 + i, "reference": f"INV-{i}"}
                response, took = _timed(lambda body=body, i=i: api.post(
                    "/api/v1/settlements", data=json.dumps(body), content_type="application/json",
                    headers={"Idempotency-Key": f"outage-{i}"}))
                assert response.status_code == 201, response.content
                assert took < 3, f"a settlement took {took:.1f}s while Redis was down"
            during = Notification.objects.count() - before_outage
            assert during >= 6  # the consent answer and a spending notice per payment
            assert Notification.objects.filter(relayed_at__isnull=True).count() == during
            time.sleep(1)
            sent_while_down = len(read_log(log))

            redis.start()  # an empty Redis: whatever it held is gone
            relay_outbox_task.delay(older_than_seconds=0)  # what beat does every 30 s
            wait_for(_all_delivered, 45, "the relay to deliver the waiting notifications")
            # A second relay (or a late duplicate task) sends nothing again.
            relay_outbox_task.delay(older_than_seconds=0)
            time.sleep(3)
    finally:
        worker.stop()
        redis.stop()

    sent = [(mask_address("email" if "@" in address else "sms", address), subject, body)
            for address, subject, body in read_log(log)]
    assert len(sent) > sent_while_down
    expected = Counter(  # deliveries keep only a masked address
        (d.address, d.notification.subject, d.notification.body)
        for d in Delivery.objects.select_related("notification").filter(sent_at__isnull=False)
    )
    assert Counter(sent) == expected
    assert max(Counter(sent).values()) == 1  # every message went out exactly once
    # (The holder's confirmation of his own request is for the inbox only: nothing to deliver.)
    for note in Notification.objects.exclude(kind="pooling.proposed"):
        assert note.deliveries.filter(sent_at__isnull=False).count() >= 1, note.subject
