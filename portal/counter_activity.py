"""How the counter's audit rows read on a citizen's "who saw or changed my information" page.

The counter writes codes (the look-up reason, the search method, the action's kind and the
documents seen); the citizen reads their labels. Registered with ``accounts.activity`` in
``PortalConfig.ready``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.activity import DetailContext, choice_label, data, joined, listed, register_detail
from accounts.models import AuditEvent

from .counter_forms import LookupReason
from .models import CounterActionKind, DocumentKind, DocumentOwner

SEARCH_METHODS = {
    "id": gettext_lazy("Looked up by ID number"),
    "name": gettext_lazy("Looked up by name and birth date"),
    "phone": gettext_lazy("Looked up by registered phone"),
}


def reason_text(reason: Any) -> str:
    if not reason:
        return ""
    labels = {code: label for code, label in LookupReason.CHOICES if code}
    return _("Reason given: %(reason)s") % {"reason": choice_label(labels, reason)}


def lookup_detail(event: AuditEvent, context: DetailContext) -> str:
    return reason_text(data(event).get("reason"))


def search_detail(event: AuditEvent, context: DetailContext) -> str:
    after = data(event)
    method = after.get("method")
    how = choice_label(SEARCH_METHODS, method, gettext_lazy("Looked up")) if method else ""
    return joined([how, reason_text(after.get("reason"))])


def action_detail(event: AuditEvent, context: DetailContext) -> str:
    """The counter action and the documents checked (their kind and whose; never their numbers)."""
    after = data(event)
    what = choice_label(CounterActionKind, after.get("kind")) if after.get("kind") else ""
    documents = [
        _("%(document)s (%(whose)s)") % {"document": choice_label(DocumentKind, d.get("kind")),
                                         "whose": choice_label(DocumentOwner, d.get("owner"))}
        for d in after.get("documents") or [] if isinstance(d, dict)
    ]
    seen = _("Documents checked: %(documents)s") % {"documents": listed(documents)} if documents else ""
    return joined([what, seen])


def register() -> None:
    register_detail(["counter.lookup"], lookup_detail)
    register_detail(["counter.search"], search_detail)
    register_detail(["counter.action"], action_detail)
