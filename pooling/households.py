"""What household registration (户籍) says about a relationship a holder claims.

Pure rules: two members of one household are described only by their relationship to the
head (户主). ``relation_between`` derives what B is to A from those two words, when the
register makes it plain; ``verdict`` compares that with the claimed relationship:

- ``CONFIRMS``: the register says exactly what the holder says;
- ``CONTRADICTS``: the register says they are something else (e.g. siblings, not parent and child);
- ``UNKNOWN``: no data, different households (a married child), or the register cannot tell
  (the head's grandchild may be another member's child or nephew).
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import HouseholdRole, Relationship

CONFIRMS = "confirms"
CONTRADICTS = "contradicts"
UNKNOWN = "unknown"

H = HouseholdRole
R = Relationship
# Not a relationship a binding can have, but the register can tell it (so a claim can be contradicted).
CHILD_IN_LAW = "child_in_law"
# The register cannot tell (an uncle, a cousin, a step-relation...): never contradicts a claim.
ANY = "?"

# What the member with the role in the column is to the head.
_TO_HEAD: dict[str, str] = {
    H.SPOUSE: R.SPOUSE, H.CHILD: R.CHILD, H.PARENT: R.PARENT, H.SIBLING: R.SIBLING,
    H.GRANDPARENT: R.GRANDPARENT, H.GRANDCHILD: R.GRANDCHILD, H.SPOUSE_PARENT: R.PARENT_IN_LAW,
}
# What the head is to a member with this role.
_HEAD_TO: dict[str, str] = {
    H.SPOUSE: R.SPOUSE, H.CHILD: R.PARENT, H.PARENT: R.CHILD, H.SIBLING: R.SIBLING,
    H.GRANDPARENT: R.GRANDCHILD, H.GRANDCHILD: R.GRANDPARENT, H.SPOUSE_PARENT: CHILD_IN_LAW,
}
# (A's role, B's role) -> what B is to A, for two members who are not the head. One value: the
# register says so; several values: it may be any of them; ANY among them: it cannot tell.
_BETWEEN: dict[tuple[str, str], tuple[str, ...]] = {
    (H.SPOUSE, H.CHILD): (R.CHILD,),
    (H.SPOUSE, H.GRANDCHILD): (R.GRANDCHILD,),
    (H.SPOUSE, H.SPOUSE_PARENT): (R.PARENT,),
    (H.SPOUSE, H.PARENT): (R.PARENT_IN_LAW,),
    (H.CHILD, H.SPOUSE): (R.PARENT,),
    (H.CHILD, H.CHILD): (R.SIBLING,),
    (H.CHILD, H.PARENT): (R.GRANDPARENT,),
    (H.CHILD, H.SPOUSE_PARENT): (R.GRANDPARENT,),
    (H.CHILD, H.GRANDCHILD): (R.CHILD, ANY),
    (H.PARENT, H.PARENT): (R.SPOUSE,),
    (H.PARENT, H.CHILD): (R.GRANDCHILD,),
    (H.PARENT, H.SIBLING): (R.CHILD,),
    (H.PARENT, H.SPOUSE): (CHILD_IN_LAW,),
    (H.SIBLING, H.SIBLING): (R.SIBLING,),
    (H.SIBLING, H.PARENT): (R.PARENT,),
    (H.SIBLING, H.GRANDPARENT): (R.GRANDPARENT,),
    (H.GRANDPARENT, H.CHILD): (R.GRANDCHILD,),
    (H.GRANDPARENT, H.PARENT): (R.CHILD, CHILD_IN_LAW),
    (H.GRANDCHILD, H.CHILD): (R.PARENT, ANY),
    (H.GRANDCHILD, H.SPOUSE): (R.GRANDPARENT,),
    (H.SPOUSE_PARENT, H.SPOUSE): (R.CHILD,),
    (H.SPOUSE_PARENT, H.CHILD): (R.GRANDCHILD,),
    (H.SPOUSE_PARENT, H.SPOUSE_PARENT): (R.SPOUSE,),
}


@dataclass(frozen=True)
class Member:
    """One person's household registration: the household number and their role."""

    household_id: str
    role: str


def relation_between(a_role: str, b_role: str) -> tuple[str, ...]:
    """What B may be to A, both in one household; empty when the register cannot tell at all."""
    if a_role == H.OTHER or b_role == H.OTHER:
        return ()
    if a_role == H.HEAD:
        return (_TO_HEAD[b_role],) if b_role in _TO_HEAD else ()
    if b_role == H.HEAD:
        return (_HEAD_TO[a_role],) if a_role in _HEAD_TO else ()
    return _BETWEEN.get((a_role, b_role), ())


def verdict(holder: Member | None, relative: Member | None, claimed: str) -> str:
    """Does the register confirm, contradict or not know that ``relative`` is the holder's ``claimed``?"""
    if holder is None or relative is None or holder.household_id != relative.household_id:
        return UNKNOWN
    possible = relation_between(holder.role, relative.role)
    if not possible:
        return UNKNOWN
    if possible == (claimed,):
        return CONFIRMS
    if claimed in possible or ANY in possible:
        return UNKNOWN
    return CONTRADICTS


def guardians_of(child: Member, members: list[tuple[int, Member]]) -> list[int]:
    """Ids of the members the register shows as ``child``'s parents or grandparents."""
    found = []
    for person_id, member in members:
        if member.household_id != child.household_id:
            continue
        # What the member is to the child, from the child's side.
        if relation_between(child.role, member.role) in ((R.PARENT,), (R.GRANDPARENT,)):
            found.append(person_id)
    return found
