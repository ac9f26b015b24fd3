"""POST data of the counter's documents table, for view tests."""

from __future__ import annotations

from typing import Any


def documents(*rows: tuple[str, str, str, bool]) -> dict[str, Any]:
    """Rows of (kind, owner, number, present) as the documents formset posts them."""
    data: dict[str, Any] = {"doc-TOTAL_FORMS": str(len(rows)), "doc-INITIAL_FORMS": "0",
                            "doc-MIN_NUM_FORMS": "0", "doc-MAX_NUM_FORMS": "10"}
    for i, (kind, owner, number, present) in enumerate(rows):
        data[f"doc-{i}-kind"] = kind
        data[f"doc-{i}-owner"] = owner
        data[f"doc-{i}-number"] = number
        if present:
            data[f"doc-{i}-present"] = "on"
    return data


def person_id(person: Any) -> dict[str, Any]:
    return documents(("id_card", "person", person.id_number, True))


def consent_documents(person: Any, relative: Any, *, relative_present: bool = True) -> dict[str, Any]:
    """Both ID cards, the relative's insurance card and a household register page."""
    return documents(
        ("id_card", "person", person.id_number, True),
        ("id_card", "relative", relative.id_number, relative_present),
        ("insurance_card", "relative", "H46010012345", relative_present),
        ("hukou_page", "relative", "460100-0123-4", relative_present),
    )
