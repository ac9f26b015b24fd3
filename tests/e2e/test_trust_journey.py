"""Trust in Debian's chromium: the holder reads the terms and pledge and proposes; the relative
consents by the text message's link AND its code (the link alone refuses); a counter look-up made
in the test appears on the citizen's "who saw or changed my information" page; the authorisation
record prints (print style sheet, to PDF and PNG).

Screenshots go to test-artifacts/screenshots/trust-*.png; the printed record to
test-artifacts/trust-record.pdf and trust-record-*.png.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Notification
from pooling.models import Binding, BindingStatus
from tests.conftest import PASSWORD, login_staff, need
from tests.e2e import test_foundation_journey
from tests.e2e.test_foundation_journey import SHOTS, Watched

chromium = test_foundation_journey.browser  # the same module-wide Debian chromium

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def window(chromium: Any, live_server: Any) -> Iterator[Watched]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    yield Watched(context.new_page())
    context.close()


def log_in(w: Watched, base: str, person: Any) -> None:
    page = w.page
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", person.id_number)
    page.fill("#id_password", PASSWORD)
    page.click("main [type=submit]")
    page.wait_for_url("**/dashboard/")


def test_pledge_consent_by_link_and_code_who_saw_my_information_and_the_printed_record(
        chromium: Any, live_server: Any, window: Watched, holder: Any, mother: Any, counter_assistant: Any) -> None:
    w, page, base = window, window.page, live_server.url

    # The holder reads the terms, ticks the pledge and sends the request.
    log_in(w, base, holder)
    page.goto(base + "/pooling/add/")
    page.fill("#id_id_number", mother.id_number)
    page.fill("#id_name", "李秀英")
    page.select_option("#id_relationship", "parent")
    page.click("main [type=submit]")
    assert "Yes, this relative can be added." in page.inner_text("#eligibility-answer")
    assert "Personal pledge" in page.inner_text("#pooling-pledge")
    w.shot("trust-1-pledge")
    page.check("#pledge-tick")
    page.click("#send-request")
    page.wait_for_url("**/dashboard/")
    binding = Binding.objects.get(holder=holder, beneficiary=mother)
    assert binding.status == BindingStatus.PENDING and binding.pledge_version == 1

    # The relative's text message: a link and a 6-digit code.
    body = Notification.objects.get(person=mother, kind="pooling.request").body
    link = re.search(r"https?://\S+?/pooling/answer/[^/\s]+/", body).group(0)
    code = re.search(r"\b(\d{6})\b", re.sub(r"https?://\S+", "", body)).group(1)
    phone = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="en-GB")
    phone.add_cookies([{"name": "django_language", "value": "en", "url": base}])
    relative = Watched(phone.new_page())
    relative.page.goto(base + link[link.index("/pooling/"):])
    assert "6-digit code" in relative.page.inner_text("main")
    assert relative.page.is_visible("#pooling-terms")
    relative.shot("trust-2-link-asks-for-the-code")
    # The link alone (the browser's own check taken away, as a forged request would): refused, nothing changes.
    relative.page.eval_on_selector("#id_code", "field => field.removeAttribute('required')")
    relative.page.click("#consent-yes")
    relative.page.wait_for_load_state()
    assert "6-digit code" in relative.page.inner_text("main")
    assert Binding.objects.get(pk=binding.pk).status == BindingStatus.PENDING
    relative.page.fill("#id_code", code)
    relative.page.click("#consent-yes")
    relative.page.wait_for_load_state()
    relative.shot("trust-3-consented")
    assert Binding.objects.get(pk=binding.pk).status == BindingStatus.ACTIVE
    phone.close()

    # A counter assistant looks the holder up (audited with a reason) ...
    desk = Client()
    login_staff(desk, counter_assistant)
    desk.post(reverse("counter:home"), {"method": "id", "by_id-id_number": holder.id_number,
                                        "by_id-reason": "in_person"}, follow=True)
    assert desk.get(reverse("counter:person", kwargs={"pk": holder.pk})).status_code == 200

    # ... and the holder sees it on "who saw or changed my information".
    page.goto(base + "/accounts/activity/")
    seen = page.inner_text("main")
    assert counter_assistant.office.name in seen and counter_assistant.username in seen
    w.shot("trust-4-who-saw-my-information")

    # The authorisation record, printed.
    page.goto(base + "/pooling/record/")
    record = page.inner_text("main")
    assert "李秀英" in record and mother.id_number not in record
    w.shot("trust-5-authorisation-record")
    pdf = SHOTS.parent / "trust-record.pdf"
    page.emulate_media(media="print")
    page.pdf(path=str(pdf), format="A4")
    assert pdf.stat().st_size > 10_000
    need(shutil.which("pdftotext") is not None, "poppler-utils (pdftotext)")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True, text=True).stdout
    assert "李秀英" in text
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(SHOTS.parent / "trust-record")],
                   check=True)
    assert w.csp_violations == [] and w.errors == []
