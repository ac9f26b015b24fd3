"""Plain words for family relationships, from either side of a binding.

``Binding.relationship`` says what the beneficiary is to the holder ("parent"). The holder's
page calls the relative "your mother"; the relative's page calls the holder "your son".
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts.models import Relationship

INVERSE = {
    Relationship.SPOUSE: Relationship.SPOUSE,
    Relationship.PARENT: Relationship.CHILD,
    Relationship.CHILD: Relationship.PARENT,
    Relationship.SIBLING: Relationship.SIBLING,
    Relationship.GRANDPARENT: Relationship.GRANDCHILD,
    Relationship.GRANDCHILD: Relationship.GRANDPARENT,
    Relationship.PARENT_IN_LAW: "child_in_law",
}

WORDS: dict[tuple[str, str], Any] = {
    ("spouse", "M"): _("husband"), ("spouse", "F"): _("wife"),
    ("parent", "M"): _("father"), ("parent", "F"): _("mother"),
    ("child", "M"): _("son"), ("child", "F"): _("daughter"),
    ("sibling", "M"): _("brother"), ("sibling", "F"): _("sister"),
    ("grandparent", "M"): _("grandfather"), ("grandparent", "F"): _("grandmother"),
    ("grandchild", "M"): _("grandson"), ("grandchild", "F"): _("granddaughter"),
    ("parent_in_law", "M"): _("father-in-law"), ("parent_in_law", "F"): _("mother-in-law"),
    ("child_in_law", "M"): _("son-in-law"), ("child_in_law", "F"): _("daughter-in-law"),
}


def relation_word(relationship: str, sex: str) -> Any:
    """What a person of ``sex`` is, as ``relationship``: ("parent", "F") -> "mother" (lazy)."""
    word = WORDS.get((relationship, sex))
    if word is not None:
        return word
    return Relationship(relationship).label if relationship in Relationship.values else relationship


def holder_word(binding: Any) -> Any:
    """What the holder is to the beneficiary ("son")."""
    return relation_word(INVERSE.get(binding.relationship, binding.relationship), binding.holder.sex)


def beneficiary_word(binding: Any) -> Any:
    """What the beneficiary is to the holder ("mother")."""
    return relation_word(binding.relationship, binding.beneficiary.sex)
