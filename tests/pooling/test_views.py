"""One test per page: what a citizen, a relative, a visitor and a counter assistant see and do."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from pooling import common, proposals
from pooling.models import Binding, BindingStatus, DeductionOrder, Guide
from tests.conftest import SANYA, login_staff, make_id, make_person
from tests.portal.counter_data import consent_documents

from .conftest import credit, make_binding

pytestmark = pytest.mark.django_db
S = BindingStatus


@pytest.fixture
def client(client):
    """Pages in English: the assertions read the English wording (Chinese is the default)."""
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def holder_client(client, holder):
    client.force_login(holder.user)
    return client


def login(client, person):
    client.force_login(person.user)
    return client


def test_it_shows_the_holder_section_with_slots_balance_and_masked_ids(holder_client, holder, mother, son):
    credit(holder, 320_000)
    make_binding(holder, mother, monthly_cap_fen=50_000)
    make_binding(holder, son, "child", status=S.PENDING)
    page = holder_client.get(reverse("portal:dashboard")).content.decode()
    assert "¥3,200.00" in page
    assert "2 of 6 used, 1 pending" in page
    assert mother.masked_id_number in page and mother.id_number not in page
    assert "per month" in page and "¥500.00" in page


def test_the_dashboard_runs_the_same_queries_for_one_or_many_relatives(
    holder_client, holder, django_assert_max_num_queries
):
    credit(holder, 100_000)
    make_binding(holder, make_person("亲属0", birth="1950-01-01", scheme="resident"))
    with django_assert_max_num_queries(40) as one:
        holder_client.get(reverse("portal:dashboard"))
    for i in range(1, 6):
        make_binding(holder, make_person(f"亲属{i}", birth="1950-01-01", scheme="resident"), status=S.PENDING)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = holder_client.get(reverse("portal:dashboard")).content.decode()
    assert "6 of 6 used, 5 pending" in page


def test_it_shows_the_relative_their_sources_and_a_plain_preview(client, holder, mother):
    credit(holder, 10_000)
    make_binding(holder, mother)
    page = login(client, mother).get(reverse("portal:dashboard")).content.decode()
    assert "Family pooling: accounts I may use" in page or "pooling-beneficiary" in page
    assert "¥100.00" in page and "¥200.00" in page  # of ¥300: ¥100 from 张伟, ¥200 in cash


def test_the_propose_page_shows_the_answer_before_sending(holder_client, holder, mother):
    url = reverse("pooling:propose")
    data = {"id_number": mother.id_number, "name": mother.name, "relationship": "parent"}
    page = holder_client.post(url, data).content.decode()
    assert 'id="send-request"' in page and Binding.objects.count() == 0
    assert 'id="pooling-terms"' in page and 'id="pledge-tick"' in page
    response = holder_client.post(url, data | {"confirm": "1", "pledge": "1"})
    assert response.status_code == 302
    assert Binding.objects.get().status == S.PENDING


def test_the_propose_page_lists_every_reason(holder_client):
    father = make_person("张建国", region=SANYA, birth="1946-01-15", status="suspended")
    data = {"id_number": father.id_number, "name": "张建国", "relationship": "parent", "confirm": "1"}
    page = holder_client.post(reverse("pooling:propose"), data).content.decode()
    assert 'data-code="candidate_not_active"' in page and 'data-code="outside_region"' in page
    assert Binding.objects.count() == 0


def test_the_propose_page_explains_an_uninsured_relative(holder_client):
    data = {"id_number": make_id(birth="1950-02-02"), "name": "李四", "relationship": "parent"}
    page = holder_client.post(reverse("pooling:propose"), data).content.decode()
    assert 'data-code="candidate_not_insured"' in page


def test_the_propose_page_rejects_a_bad_id_number_kindly(holder_client):
    data = {"id_number": "12345", "name": "李四", "relationship": "parent"}
    response = holder_client.post(reverse("pooling:propose"), data)
    assert response.status_code == 200 and "error-summary" in response.content.decode()


def test_the_relative_answers_in_the_portal(client, holder, mother):
    binding = proposals.propose_binding(holder, mother, "parent", common.By(holder, holder.user))
    login(client, mother)
    assert client.get(reverse("pooling:answer", args=[binding.pk])).status_code == 200
    client.post(reverse("pooling:answer", args=[binding.pk]), {"answer": "yes"})
    assert Binding.objects.get().status == S.ACTIVE


def test_the_link_in_the_message_works_without_logging_in_with_the_code(client, holder, mother):
    import re

    from accounts.models import Notification

    binding = proposals.propose_binding(holder, mother, "parent", common.By(holder, holder.user))
    body = Notification.objects.get(person=mother, kind="pooling.request").body
    code = re.search(r"\b(\d{6})\b", re.sub(r"https?://\S+", "", body)).group(1)
    url = reverse("pooling:consent-link", args=[proposals.consent_token(binding)])
    page = client.get(url).content.decode()
    assert "张伟" in page and 'id="answer-code-field"' in page
    client.post(url, {"answer": "no", "code": code})
    assert Binding.objects.get().status == S.DECLINED
    assert client.get(url).status_code == 410


def test_others_cannot_see_or_change_a_binding(client, holder, mother, outsider):
    binding = make_binding(holder, mother)
    login(client, outsider)
    assert client.get(reverse("pooling:binding", args=[binding.pk])).status_code == 404
    assert client.post(reverse("pooling:pause", args=[binding.pk])).status_code == 404
    login(client, mother)
    assert client.post(reverse("pooling:pause", args=[binding.pk])).status_code == 404
    assert Binding.objects.get().status == S.ACTIVE


def test_the_holder_pauses_and_sees_the_undo_banner(holder_client, holder, mother):
    binding = make_binding(holder, mother)
    holder_client.post(reverse("pooling:pause", args=[binding.pk]))
    page = holder_client.get(reverse("portal:dashboard")).content.decode()
    assert 'id="undo-banner"' in page
    change_pk = int(page.split("/pooling/undo/")[1].split("/")[0])
    holder_client.post(reverse("pooling:undo", args=[change_pk]))
    assert Binding.objects.get().status == S.ACTIVE


def test_the_limits_page_saves_yuan_as_fen(holder_client, holder, mother):
    binding = make_binding(holder, mother)
    url = reverse("pooling:limits", args=[binding.pk])
    assert holder_client.get(url).status_code == 200
    holder_client.post(url, {"per_payment": "120.50", "monthly": "", "annual": "5000"})
    binding.refresh_from_db()
    assert (binding.per_payment_cap_fen, binding.monthly_cap_fen, binding.annual_cap_fen) == (12_050, None, 500_000)
    page = holder_client.post(url, {"per_payment": "-1"}).content.decode()
    assert "cannot be below ¥0" in page


def test_the_end_date_and_unbind_pages(holder_client, holder, mother):
    binding = make_binding(holder, mother)
    holder_client.post(reverse("pooling:end-date", args=[binding.pk]), {"end_date": "2000-01-01"})
    binding.refresh_from_db()
    assert binding.end_date is None
    assert holder_client.get(reverse("pooling:binding", args=[binding.pk])).status_code == 200
    assert holder_client.get(reverse("pooling:unbind", args=[binding.pk])).status_code == 200
    holder_client.post(reverse("pooling:unbind", args=[binding.pk]), {"note": "moving"})
    binding.refresh_from_db()
    assert binding.status == S.ENDED and binding.end_note == "moving"


def test_the_relative_reorders_sources_and_previews(client, holder):
    spouse = make_person("王丽", scheme="flexible", birth="1977-06-08", sex="F")
    from tests.conftest import make_citizen

    make_citizen(spouse)
    binding = make_binding(holder, spouse, "spouse")
    credit(spouse, 12_000)
    credit(holder, 50_000)
    login(client, spouse)
    client.post(reverse("pooling:order"), {"source": f"binding:{binding.pk}", "move": "up"})
    assert DeductionOrder.objects.get(person=spouse).sources == [f"binding:{binding.pk}", "own"]
    page = client.get(reverse("pooling:order"), {"amount": "600", "category": "outpatient"}).content.decode()
    assert "¥500.00" in page and "¥100.00" in page


def test_the_public_checker_answers_without_logging_in(client, guides):
    page = client.get(reverse("pooling:checker")).content.decode()
    assert "Can I add my relative?" in page or "relationship" in page
    answer = client.get(reverse("pooling:checker"), {
        "my_scheme": "employee", "my_region": "460100", "relationship": "parent", "relative_insured": "yes",
        "relative_scheme": "resident", "relative_region": "460200", "relative_age": "75",
    }).content.decode()
    assert 'data-code="outside_region"' in answer
    ok = client.get(reverse("pooling:checker"), {
        "my_scheme": "employee", "my_region": "海口市", "relationship": "parent", "relative_insured": "yes",
        "relative_scheme": "resident", "relative_age": "75",
    }).content.decode()
    assert "eligibility-answer" in ok and "data-code" not in ok
    assert reverse("pooling:guide", args=["counter"]) in ok


def test_the_checker_explains_a_bad_region(client):
    page = client.get(reverse("pooling:checker"), {"my_scheme": "employee", "my_region": "Atlantis",
                                                    "relationship": "parent", "relative_insured": "no"})
    assert page.status_code == 200 and "We do not know this place" in page.content.decode()


def test_the_guides_are_data_with_regional_overrides(client, guides):
    hainan = client.get(reverse("pooling:guides"), {"region": "460100"}).content.decode()
    assert "Hainan: the 海南医保 WeChat mini program" in hainan and "WeChat City services" in hainan
    national = client.get(reverse("pooling:guides")).content.decode()
    assert "创建家庭共济" not in national
    printable = client.get(reverse("pooling:guide", args=["counter"]), {"print": "1"}).content.decode()
    assert "print-page" in printable and "household register" in printable
    assert client.get(reverse("pooling:guide", args=["nope"])).status_code == 404
    assert Guide.objects.filter(region__isnull=True, purpose="pooling").count() == 6


def test_the_how_to_and_faq_pages(client, guides):
    assert "step-by-step" in client.get(reverse("pooling:how-to")).content.decode()
    faq = client.get(reverse("pooling:faq")).content.decode()
    assert "family account" in faq and "not insured" in faq


def test_the_nav_links_lead_to_the_public_pages(client):
    page = client.get(reverse("portal:home")).content.decode()
    for name in ("pooling:checker", "pooling:guides", "pooling:faq"):
        assert reverse(name) in page


def test_a_counter_assistant_sets_up_pooling_on_the_spot(client, counter_assistant, holder, mother):
    login_staff(client, counter_assistant)
    person_page = client.get(reverse("counter:person", args=[holder.pk])).content.decode()
    assert reverse("counter:pooling-propose", args=[holder.pk]) in person_page
    url = reverse("counter:pooling-propose", args=[holder.pk])
    data = {"id_number": mother.id_number, "name": mother.name, "relationship": "parent", "record_consent": "on",
            **consent_documents(holder, mother)}
    assert 'id="counter-confirm"' in client.post(url, data).content.decode()
    client.post(url, data | {"confirm": "1"})
    binding = Binding.objects.get()
    assert binding.status == S.ACTIVE and binding.consent_channel == "counter"
    assert AuditEvent.objects.filter(action="pooling.proposed", channel="counter", actor=counter_assistant).exists()


def test_a_counter_assistant_records_consent_for_a_waiting_request(client, counter_assistant, holder, mother):
    binding = proposals.propose_binding(holder, mother, "parent", common.By(holder, holder.user))
    login_staff(client, counter_assistant)
    url = reverse("counter:pooling-consent", args=[mother.pk, binding.pk])
    assert client.get(url).status_code == 200
    client.post(url, consent_documents(mother, holder))
    assert Binding.objects.get().status == S.ACTIVE


def test_a_counter_only_serves_its_own_region(client, counter_assistant, outsider):
    login_staff(client, counter_assistant)
    assert client.get(reverse("counter:pooling-propose", args=[outsider.pk])).status_code == 404



def test_the_answer_with_code_page_leads_to_the_request(client, holder, mother):
    import re

    from accounts.models import Notification

    proposals.propose_binding(holder, mother, "parent", common.By(holder, holder.user))
    body = Notification.objects.get(person=mother, kind="pooling.request").body
    code = re.search(r"\b(\d{6})\b", re.sub(r"https?://\S+", "", body)).group(1)
    url = reverse("pooling:answer-code")
    assert client.get(url).status_code == 200
    bad = client.post(url, {"id_number": mother.id_number, "code": "000000" if code != "000000" else "111111"})
    assert "not right" in bad.content.decode()
    response = client.post(url, {"id_number": mother.id_number, "code": code})
    assert response.status_code == 302 and "/pooling/answer/" in response["Location"]
    client.post(response["Location"], {"answer": "yes"})
    assert Binding.objects.get().status == S.ACTIVE


def test_a_relative_without_an_account_or_pooling_learns_how_to_be_added(client, mother):
    page = login(client, mother).get(reverse("portal:dashboard")).content.decode()
    assert 'id="pooling-info"' in page and 'id="pooling-holder"' not in page


def test_bureau_staff_review_flagged_bindings_and_edit_guides(client, bureau_clerk, holder, guides):
    young = make_person("年轻妈妈", birth="1985-01-01", scheme="resident")
    binding = proposals.propose_binding(holder, young, "parent", common.By(holder, holder.user))
    assert binding.flagged_for_review
    login_staff(client, bureau_clerk)
    changelist = reverse("admin:pooling_binding_changelist")
    assert client.get(changelist, {"flagged_for_review__exact": "1"}).status_code == 200
    client.post(changelist, {"action": "mark_reviewed", "_selected_action": [binding.pk]})
    binding.refresh_from_db()
    assert not binding.flagged_for_review and binding.reviewed_by == bureau_clerk
    assert AuditEvent.objects.filter(action="pooling.reviewed", actor=bureau_clerk).exists()
    guide = Guide.objects.get(channel="counter", region__isnull=True)
    assert client.get(reverse("admin:pooling_guide_change", args=[guide.pk])).status_code == 200


def test_a_relative_who_ends_pooling_can_undo_it_from_their_page(client, holder, mother):
    binding = make_binding(holder, mother)
    login(client, mother)
    client.post(reverse("pooling:unbind", args=[binding.pk]), {"note": ""})
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert 'id="undo-banner"' in page
    change_pk = int(page.split("/pooling/undo/")[1].split("/")[0])
    client.post(reverse("pooling:undo", args=[change_pk]))
    assert Binding.objects.get().status == S.ACTIVE


def test_the_holder_sees_requests_that_were_declined_or_expired(holder_client, holder, mother):
    binding = proposals.propose_binding(holder, mother, "parent", common.By(holder, holder.user))
    proposals.decline_binding(binding, common.By(mother, mother.user))
    page = holder_client.get(reverse("portal:dashboard")).content.decode()
    assert 'data-testid="recently-ended"' in page and "Declined by the relative" in page
