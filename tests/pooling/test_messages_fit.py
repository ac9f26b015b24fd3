"""Issue 14 item 5: messages that fit the person and the channel."""

from __future__ import annotations

from accounts.models import Notification
from pooling import changes
from pooling.common import By
from tests.conftest import make_person

from .conftest import make_binding


def web(person):
    return By(person, person.user)


def sent(person):
    """Notifications that will go out by text message or e-mail (not born delivered)."""
    return list(Notification.objects.filter(person=person, relayed_at__isnull=True).values_list("kind", flat=True))


def test_own_pause_resume_and_limits_reach_the_holder_in_the_inbox_only(holder, mother):
    binding = make_binding(holder, mother)
    changes.pause_binding(binding, web(holder))
    changes.resume_binding(binding, web(holder))
    changes.set_limits(binding, web(holder), per_payment_fen=5_000, monthly_fen=None, annual_fen=None)
    inbox = list(Notification.objects.filter(person=holder).values_list("kind", flat=True))
    assert sorted(inbox) == ["pooling.limits", "pooling.paused", "pooling.resumed"]
    assert sent(holder) == []
    # The relative is not the one acting: they are told on their channels.
    assert sorted(sent(mother)) == ["pooling.limits", "pooling.paused", "pooling.resumed"]


def test_pause_all_tells_the_holder_once(holder, mother):
    father = make_person("张建国", birth="1946-01-02", sex="M", scheme="resident")
    make_binding(holder, mother)
    make_binding(holder, father)
    changes.pause_all(holder, web(holder))
    messages = Notification.objects.filter(person=holder, kind="pooling.paused")
    assert messages.count() == 1
    assert "李秀英、张建国" in messages.get().body
    assert sent(holder) == []
    changes.resume_all(holder, web(holder))
    assert Notification.objects.filter(person=holder, kind="pooling.resumed").count() == 1
    assert Notification.objects.filter(person=father, kind="pooling.resumed").count() == 1


def test_a_relative_ending_pooling_is_told_in_the_inbox_but_the_holder_by_text(holder, mother):
    binding = make_binding(holder, mother)
    changes.unbind(binding, web(mother))
    assert sent(mother) == []
    assert sent(holder) == ["pooling.ended"]
