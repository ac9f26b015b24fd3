"""A spending notice, end to end with real parts: a payment through the API with the courier on
(as in production), a real Redis and a real Celery worker, which sends it to the holder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from accounts.models import Delivery, Notification
from tests.statements.realparts import RedisServer, Worker, broker, wait_for, worker_env

from .conftest import bind, credit, voucher_for

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.redis,
              pytest.mark.django_db(transaction=True)]


def test_a_relatives_payment_reaches_the_holder_through_the_courier_and_a_real_worker(
    require_postgres: None, require_redis: str, tmp_path: Path, hospital: Any, holder: Any, mother: Any
) -> None:
    credit(holder, 50_000)
    bind(holder, mother, "parent")
    redis = RedisServer()
    redis.start()
    worker = Worker(worker_env(redis.url), tmp_path / "worker.log", "notices")
    try:
        worker.start()
        with broker(redis.url), override_settings(NOTIFICATION_COURIER=True, NOTIFICATION_GATHER_SECONDS=0.05):
            response = hospital.settle(voucher_for(mother), 3_000)
            assert response.status_code == 201 and response.json()["paid_fen"] == 3_000
            notice = Notification.objects.get(person=holder, kind="spending")
            assert "¥30.00" in notice.body

            def delivered() -> bool:
                notice.refresh_from_db()
                return notice.relayed_at is not None

            wait_for(delivered, 30, "the worker to deliver the spending notice")
        assert Delivery.objects.filter(notification=notice, sent_at__isnull=False).exists()
    finally:
        worker.stop()
        redis.stop()
