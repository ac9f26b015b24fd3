"""Admin pages are valid, labelled HTML: what axe-core and the Nu checker found in Django admin's own
widgets (CI's page checks, .ci/page_checks.py) stays fixed by the portal's overrides."""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from accounts.models import User
from pooling.models import Guide, GuideStep
from tests.conftest import login_staff

pytestmark = [pytest.mark.django_db]


class Markup(HTMLParser):
    """The ids, label targets, aria-describedby targets, form controls and scripts of a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()
        self.label_for: set[str] = set()
        self.described_by: list[str] = []
        self.controls: list[dict[str, str | None]] = []
        self.inline_scripts = 0
        self.stylesheets: list[str] = []
        self.scripts: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids[a["id"] or ""] += 1
        if tag == "label" and a.get("for"):
            self.label_for.add(a["for"] or "")
        if a.get("aria-describedby"):
            self.described_by += (a["aria-describedby"] or "").split()
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append({"tag": tag, **a})
        if tag == "script":
            if a.get("src"):
                self.scripts.append(a["src"] or "")
            elif a.get("type") != "application/json":
                self.inline_scripts += 1
        if tag == "link" and a.get("rel") == "stylesheet":
            self.stylesheets.append(a.get("href") or "")


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def assert_well_formed(html: str) -> Markup:
    markup = Markup(html)
    assert [i for i, n in markup.ids.items() if n > 1] == []
    assert [ref for ref in markup.described_by if ref not in markup.ids] == []
    return markup


@pytest.fixture
def guide(db) -> Guide:
    """A national guide (the data migration seeds them) with at least one step."""
    guide = Guide.objects.filter(region=None).first() or Guide.objects.create(channel="counter", title="柜台办理")
    if not guide.steps.exists():
        GuideStep.objects.create(guide=guide, position=1, text="带上身份证", detail="Bring your ID card")
    return guide


def test_every_admin_page_loads_the_portal_fixes_and_no_inline_script(client, bureau_clerk, guide):
    login_staff(client, bureau_clerk)
    for url in [
        reverse("admin:index"),
        reverse("admin:pooling_guide_changelist"),
        reverse("admin:pooling_guide_change", args=[guide.pk]),
        reverse("admin:accounts_user_change", args=[bureau_clerk.pk]),
    ]:
        markup = Markup(page(client, url))
        assert any(href.endswith("css/admin.css") for href in markup.stylesheets), url
        assert any(src.endswith("js/admin.js") for src in markup.scripts), url
        assert markup.inline_scripts == 0, url  # the CSP has no unsafe-inline


def test_tabular_inline_rows_have_labels_and_their_help_text(client, bureau_clerk, guide):
    login_staff(client, bureau_clerk)
    html = page(client, reverse("admin:pooling_guide_change", args=[guide.pk]))
    markup = assert_well_formed(html)
    rows = [c for c in markup.controls if (c.get("name") or "").startswith("steps-")]
    assert {c["name"] for c in rows} >= {"steps-0-position", "steps-0-text", "steps-0-detail", "steps-0-DELETE"}
    assert [c["id"] for c in rows if c["id"] not in markup.label_for] == []
    # The English step's help text is there, under the id its aria-describedby names.
    assert 'id="id_steps-0-detail_helptext"' in html


def test_autocomplete_selects_start_with_a_labelled_empty_option(client, bureau_clerk):
    login_staff(client, bureau_clerk)
    for url in [
        reverse("admin:pooling_guide_add"),  # region optional
        reverse("admin:payments_institution_add"),  # region required
        reverse("admin:accounts_regionpolicy_add"),
    ]:
        html = page(client, url)
        select = re.search(r'<select name="region"[^>]*class="admin-autocomplete".*?</select>', html, re.S)
        assert select is not None, url
        assert re.search(r'^<select[^>]*>\s*<option value="">---------</option>', select.group(0)), url
        assert '<option value=""></option>' not in html, url


def test_user_page_date_time_inputs_are_labelled_and_the_password_summary_is_a_plain_div(client, bureau_clerk):
    User.objects.filter(pk=bureau_clerk.pk).update(last_login="2026-01-02T03:04:05Z")
    login_staff(client, bureau_clerk)
    html = page(client, reverse("admin:accounts_user_change", args=[bureau_clerk.pk]))
    markup = assert_well_formed(html)
    for control in ("id_last_login_0", "id_last_login_1", "id_date_joined_0", "id_date_joined_1"):
        assert control in markup.label_for, control
    summary = re.search(r'<div[^>]*id="id_password"[^>]*>', html)
    assert summary is not None
    assert "disabled" not in summary.group(0) and "aria-describedby" not in summary.group(0)


def test_set_password_page_is_valid_and_translated(client, bureau_clerk):
    login_staff(client, bureau_clerk)
    html = page(client, reverse("admin:auth_user_password_change", args=[bureau_clerk.pk]))
    assert_well_formed(html)
    assert not re.search(r"<p>(?:(?!</p>).)*<ul", html, re.S)  # no list inside a paragraph
    assert '<ul id="id_unusable_warning"' in html
    assert "如果禁用，该用户当前的密码将会丢失。" in html
    assert "If disabled, the current password" not in html


def test_search_box_label_has_text(client, bureau_clerk):
    login_staff(client, bureau_clerk)
    html = page(client, reverse("admin:accounts_insuredperson_changelist"))
    label = re.search(r'<label for="searchbar">(.*?)</label>', html, re.S)
    assert label is not None and "搜索" in label.group(1)
    assert 'alt="Search"' not in html
