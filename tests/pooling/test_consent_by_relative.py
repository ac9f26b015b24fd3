"""Consent only by the relative: their own portal, or the SMS link plus the code from the same message."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Notification
from pooling import common, proposals
from pooling.common import PoolingError
from pooling.models import Binding, BindingStatus

pytestmark = pytest.mark.django_db
S = BindingStatus


@pytest.fixture
def request_sent(holder, mother):
    binding = proposals.propose_binding(holder, mother, "parent", common.By(holder, holder.user))
    body = Notification.objects.get(person=mother, kind="pooling.request").body
    code = re.search(r"\b(\d{6})\b", re.sub(r"https?://\S+", "", body)).group(1)
    url = re.search(r"https?://\S+?/pooling/answer/[^/\s]+/", body).group(0)
    return binding, code, url[url.index("/pooling/"):]


def wrong(code):
    return f"{(int(code) + 1) % 10**6:06d}"


@pytest.mark.parametrize(("language", "asks"), [("en", "6-digit code"), ("zh-hans", "6位验证码")])
def test_the_relative_consents_by_link_and_code(client, request_sent, language, asks):
    binding, code, url = request_sent
    client.cookies["django_language"] = language
    page = client.get(url).content.decode()
    assert 'id="answer-code-field"' in page and asks in page and 'id="pooling-terms"' in page
    response = client.post(url, {"answer": "yes", "code": code})
    assert response.status_code == 302
    binding.refresh_from_db()
    assert binding.status == S.ACTIVE and binding.consent_channel == "web"
    assert binding.consent_terms_version == 1
    event = AuditEvent.objects.get(action="pooling.consented")
    assert (event.channel, event.actor, event.on_behalf_of) == ("web", None, binding.beneficiary)


@pytest.mark.parametrize(("language", "says"), [("en", "The link alone does not answer"), ("zh-hans", "仅打开链接不会完成答复")])
def test_a_link_without_the_code_never_consents(client, request_sent, language, says):
    binding, code, url = request_sent
    client.cookies["django_language"] = language
    response = client.post(url, {"answer": "yes"})
    assert response.status_code == 400 and says in response.content.decode()
    response = client.post(url, {"answer": "yes", "code": wrong(code)})
    assert response.status_code == 400 and 'id="code-error"' in response.content.decode()
    response = client.post(url, {"answer": "no"})
    assert response.status_code == 400
    binding.refresh_from_db()
    assert binding.status == S.PENDING and binding.consented_at is None
    assert binding.answer_code_attempts == 3
    assert not AuditEvent.objects.filter(action__in=["pooling.consented", "pooling.declined"]).exists()


def test_wrong_codes_lock_the_link(request_sent):
    binding, code, _url = request_sent
    for _ in range(proposals.ANSWER_CODE_ATTEMPTS):
        with pytest.raises(PoolingError) as error:
            proposals.check_answer_code(binding, wrong(code))
        assert error.value.code == "bad_code"
    with pytest.raises(PoolingError) as error:
        proposals.check_answer_code(binding, code)
    assert error.value.code == "locked"


@pytest.mark.parametrize(("language", "says"), [
    ("en", "consent is recorded at the counter, with their documents checked"),
    ("zh-hans", "由柜台查验材料后"),
])
@pytest.mark.parametrize("who", ["counter_assistant", "bureau_clerk"])
def test_a_staff_session_is_refused_on_a_consent_link_and_the_code_page(
    client, request_sent, mother, who, language, says, request,
):
    binding, code, url = request_sent
    client.force_login(request.getfixturevalue(who))
    client.cookies["django_language"] = language
    for response in (client.get(url), client.post(url, {"answer": "yes", "code": code}),
                     client.get(reverse("pooling:answer-code")),
                     client.post(reverse("pooling:answer-code"), {"id_number": mother.id_number, "code": code})):
        assert response.status_code == 403
        assert 'id="staff-refused"' in response.content.decode() and says in response.content.decode()
    assert Binding.objects.get().status == S.PENDING
    binding.refresh_from_db()
    assert binding.answer_code_attempts == 0


def test_the_relative_logged_in_is_sent_to_their_own_page(client, request_sent, mother):
    binding, _code, url = request_sent
    client.force_login(mother.user)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == reverse("pooling:answer", args=[binding.pk])


def test_another_citizen_cannot_use_the_link(client, request_sent, outsider):
    _binding, code, url = request_sent
    client.force_login(outsider.user)
    assert client.post(url, {"answer": "yes", "code": code}).status_code == 404
    assert Binding.objects.get().status == S.PENDING
