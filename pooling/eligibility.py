"""Who may bind whom: the one place a newcomer reads the rules of SPEC §2.

Pure functions over plain facts: no database writes, no HTTP. ``check_binding`` returns
*every* reason a binding cannot be made (not only the first), each with a code, a plain
explanation and what to do instead, plus warnings that do not block (a zero balance, ages
that do not fit the relationship: the latter flag the binding for bureau review).

Messages are lazy translations with %(name)s slots; ``Reason.message``/``Reason.advice``
render them in the active language.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.idnumbers import age_on
from accounts.models import (
    PERSONAL_ACCOUNT_SCHEMES,
    InsuranceStatus,
    InsuredPerson,
    PoolingScope,
    RegionPolicy,
    Relationship,
)

# Relationships in which a parent or grandparent binds a child, who then joins without consent.
GUARDIAN_RELATIONSHIPS = (Relationship.CHILD, Relationship.GRANDCHILD)


@dataclass(frozen=True)
class PersonFacts:
    """What the rules need to know about one person. ``known=False``: not in the registry."""

    known: bool = True
    scheme: str = ""
    status: str = ""
    region_code: str = ""
    region_name: str = ""
    birth_date: datetime.date | None = None
    died: bool = False
    person_id: int | None = None
    has_login: bool = True
    sex: str = ""

    @classmethod
    def of(cls, person: InsuredPerson, region_name: str | None = None) -> PersonFacts:
        user = getattr(person, "user", None) if hasattr(person, "_state") else None
        return cls(
            known=True, scheme=person.scheme, status=person.status, region_code=person.region_id,
            region_name=region_name if region_name is not None else _region_name(person),
            birth_date=person.birth_date, died=person.died_on is not None, person_id=person.pk,
            has_login=user is not None, sex=person.sex,
        )

    @classmethod
    def unknown(cls, birth_date: datetime.date | None = None) -> PersonFacts:
        return cls(known=False, birth_date=birth_date, has_login=False)

    @property
    def has_personal_account(self) -> bool:
        return self.scheme in PERSONAL_ACCOUNT_SCHEMES

    @property
    def is_active(self) -> bool:
        return self.known and self.status == InsuranceStatus.ACTIVE and not self.died


def _region_name(person: InsuredPerson) -> str:
    try:
        return person.region.full_name
    except Exception:  # pragma: no cover - region always exists in practice
        return person.region_id


@dataclass(frozen=True)
class Counts:
    """The holder's current bindings, as the slot counter shows them."""

    active: int = 0  # live but not pending: active, paused, suspended
    pending: int = 0
    pair_status: str = ""  # status of a live binding of this very pair, if any
    cooling_until: datetime.date | None = None  # re-binding this pair is possible from this day
    holder_balance_fen: int | None = None  # None: unknown (the public checker)

    @property
    def used(self) -> int:
        return self.active + self.pending


@dataclass(frozen=True)
class Reason:
    """One reason (or warning): a code, what is wrong, and what to do instead."""

    code: str
    explanation: Promise
    advice: Promise
    params: dict[str, Any] = field(default_factory=dict)

    def _render(self, text: Promise) -> str:
        rendered = str(text)
        return rendered % {k: str(v) for k, v in self.params.items()} if self.params else rendered

    @property
    def message(self) -> str:
        return self._render(self.explanation)

    @property
    def what_to_do(self) -> str:
        return self._render(self.advice)


@dataclass(frozen=True)
class Answer:
    reasons: list[Reason]
    warnings: list[Reason]
    joins_at_once: bool = False  # a minor bound by a parent/grandparent the household register confirms
    awaits_counter: bool = False  # a minor the register does not show as the holder's (grand)child

    @property
    def ok(self) -> bool:
        return not self.reasons

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    @property
    def warning_codes(self) -> list[str]:
        return [w.code for w in self.warnings]

    @property
    def review_flags(self) -> list[str]:
        """Warnings that send the binding to bureau review."""
        return [w.code for w in self.warnings if w.code.startswith("age_")]


class _Lower:
    """Renders a lazy label in lower case when the message is rendered (not when built)."""

    def __init__(self, *parts: Any) -> None:
        self.parts = parts

    def __str__(self) -> str:
        # A list reads "配偶、父母、子女" in Chinese and "spouse, parent, child" in English.
        sep = "、" if (get_language() or "").startswith("zh") else ", "
        return sep.join(str(p).lower() for p in self.parts)

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


def _word(relationship: str, sex: str) -> Any:
    """"mother" when the sex is known, else "parent"."""
    if sex and relationship in Relationship.values:
        from .relations import relation_word

        return relation_word(relationship, sex)
    return relationship_label(relationship)


def relationship_label(code: str) -> Any:
    return Relationship(code).label if code in Relationship.values else code


def check_binding(
    holder: PersonFacts,
    candidate: PersonFacts,
    relationship: str,
    policy: RegionPolicy,
    today: datetime.date,
    counts: Counts | None = None,
    *,
    same_person: bool = False,
    household: str = "unknown",
) -> Answer:
    """Every reason ``holder`` cannot bind ``candidate`` as ``relationship`` today, and warnings.

    ``household`` is what the household register (户籍) says about the claimed relationship
    (``households.verdict``): a contradiction refuses; only a confirmation lets a minor join
    without a counter seeing the household register or birth certificate.
    """
    counts = counts or Counts()
    reasons: list[Reason] = []
    warnings: list[Reason] = []
    rel = _Lower(_word(relationship, candidate.sex))

    if same_person or (holder.person_id is not None and holder.person_id == candidate.person_id):
        reasons.append(Reason(
            "self",
            _("You cannot add yourself: family pooling shares your account with a relative."),
            _("Enter the ID number of the relative you want to help."),
        ))

    # The holder: employee insurance (a personal account) and active.
    if holder.known and not holder.has_personal_account:
        reasons.append(Reason(
            "holder_no_account",
            _("Only people with employee medical insurance have a personal account to share. "
              "Your insurance is urban-rural resident insurance, which has no personal account."),
            _("A relative with employee insurance can add you instead, and pay for your care from their account."),
        ))
    if not holder.is_active:
        reasons.append(Reason(
            "holder_not_active",
            _("Your own insurance is not active at the moment, so your account cannot be shared."),
            _("Please contact your medical insurance bureau to restore your insurance, then try again."),
        ))

    # The relative: insured and active.
    if not candidate.known:
        reasons.append(Reason(
            "candidate_not_insured",
            _("We could not find this person in the medical insurance register. "
              "Only insured relatives can use family pooling."),
            _("Check the ID number. If it is right, your relative needs to enrol in basic medical insurance "
              "first (at their local medical insurance bureau or community service centre); then add them."),
        ))
    elif candidate.died:
        reasons.append(Reason(
            "candidate_deceased",
            _("The register records this person as deceased."),
            _("If this is a mistake, please contact your medical insurance bureau."),
        ))
    elif not candidate.is_active:
        reasons.append(Reason(
            "candidate_not_active",
            _("Your %(relationship)s's insurance is %(status)s, so they cannot receive pooled money now."),
            _("Your relative should renew their insurance first (their local bureau can help); then add them."),
            {"relationship": rel, "status": _status_word(candidate.status)},
        ))

    # The relationship: a close relative the region allows.
    if relationship not in Relationship.values:
        reasons.append(Reason(
            "relationship_unknown",
            _("Family pooling is only for close relatives: spouse, parents, children, brothers and sisters, "
              "grandparents and grandchildren."),
            _("Choose how this person is related to you."),
        ))
    elif relationship not in (policy.allowed_relationships or []):
        allowed = _Lower(*(relationship_label(r) for r in policy.allowed_relationships or []))
        reasons.append(Reason(
            "relationship_not_allowed",
            _("In your region, family pooling is allowed only for: %(allowed)s. A %(relationship)s is not included."),
            _("Another relative of theirs who is on that list and has employee insurance may be able to add them."),
            {"allowed": allowed, "relationship": rel},
        ))

    # What the household register says (户籍).
    if household == "contradicts" and relationship in Relationship.values:
        reasons.append(Reason(
            "household_contradicts",
            _("The household register does not show this person as your %(relationship)s."),
            _("If the register is out of date or the relationship is right, please go to a service counter with "
              "the household register or a birth or marriage certificate; the counter can check it and "
              "set up pooling for you."),
            {"relationship": rel},
        ))

    # Where the relative is insured.
    in_scope = not (holder.known and candidate.known and holder.region_code and candidate.region_code) or _in_scope(
        policy.pooling_scope, holder.region_code, candidate.region_code
    )
    if not in_scope:
        scope_messages: dict[str, tuple[str, Any]] = {
            PoolingScope.REGION: (
                "outside_region",
                _("Your %(relationship)s is insured in %(their_region)s, and %(my_region)s allows family "
                  "pooling only with relatives insured in %(my_region)s."),
            ),
            PoolingScope.PROVINCE: (
                "outside_province",
                _("Your %(relationship)s is insured in %(their_region)s, and %(my_region)s allows family "
                  "pooling only with relatives insured in the same province."),
            ),
        }
        code, explanation = scope_messages.get(
            policy.pooling_scope, ("outside_scope", _("Your relative is insured outside the allowed area."))
        )
        reasons.append(Reason(
            code, explanation,
            _("If your relative moves their insurance to your region, you can add them then. "
              "Some regions let you pay a relative's resident insurance premium elsewhere: ask your bureau."),
            {"relationship": rel, "their_region": candidate.region_name or candidate.region_code,
             "my_region": holder.region_name or holder.region_code},
        ))

    # This pair.
    if counts.pair_status:
        reasons.append(Reason(
            "already_bound",
            _("This relative is already on your list (status: %(status)s)."),
            _("You do not need to add them again. You can see and change them on your family pooling page."),
            {"status": _binding_status_word(counts.pair_status)},
        ))
    elif counts.cooling_until and today < counts.cooling_until:
        reasons.append(Reason(
            "cooling_period",
            _("You ended pooling with this relative recently. Your region asks you to wait before adding them again."),
            _("You can add them again from %(date)s."),
            {"date": counts.cooling_until.isoformat()},
        ))

    # The maximum.
    maximum = policy.max_beneficiaries
    if not counts.pair_status and counts.used >= maximum:
        reasons.append(Reason(
            "maximum_reached",
            _("You already have %(used)s relatives (%(active)s active, %(pending)s waiting for an answer). "
              "Your region allows at most %(max)s."),
            _("To add someone new, first end pooling with one relative, or cancel a request that is still waiting."),
            {"used": counts.used, "active": counts.active, "pending": counts.pending, "max": maximum},
        ))

    # Non-blocking warnings.
    if counts.holder_balance_fen is not None and counts.holder_balance_fen <= 0 and not reasons:
        warnings.append(Reason(
            "zero_balance",
            _("Your personal account balance is ¥0 at the moment, so pooled payments would pay nothing."),
            _("You can still add your relative now; payments work again once your monthly contribution arrives."),
        ))
    warnings += _age_warnings(holder, candidate, relationship, policy, today)

    minor = candidate.birth_date is not None and age_on(candidate.birth_date, today) < policy.minor_age
    # A minor never joins on the holder's word alone: the register must confirm a parent or
    # grandparent; otherwise the request waits for a counter to see the documents.
    joins_at_once = not reasons and minor and relationship in GUARDIAN_RELATIONSHIPS and household == "confirms"
    awaits_counter = not reasons and minor and not joins_at_once
    return Answer(reasons=reasons, warnings=warnings, joins_at_once=joins_at_once, awaits_counter=awaits_counter)


def _in_scope(scope: str, holder_region: str, candidate_region: str) -> bool:
    if scope == PoolingScope.NATIONAL:
        return True
    if scope == PoolingScope.PROVINCE:
        return holder_region[:2] == candidate_region[:2]
    return holder_region == candidate_region


def _status_word(status: str) -> Any:
    return _Lower(InsuranceStatus(status).label) if status in InsuranceStatus.values else status


def _binding_status_word(status: str) -> Any:
    from .models import BindingStatus

    return _Lower(BindingStatus(status).label) if status in BindingStatus.values else status


# Minimum age gap between the holder and the relative, in years (relative older: positive).
_OLDER_BY: dict[str, int] = {Relationship.PARENT: 15, Relationship.GRANDPARENT: 30}
_YOUNGER_BY: dict[str, int] = {Relationship.CHILD: 15, Relationship.GRANDCHILD: 30}


def _age_warnings(
    holder: PersonFacts, candidate: PersonFacts, relationship: str, policy: RegionPolicy, today: datetime.date
) -> list[Reason]:
    """Ages that do not fit the relationship: allowed, but flagged for the bureau to check."""
    if holder.birth_date is None or candidate.birth_date is None:
        return []
    gap = _years_between(candidate.birth_date, holder.birth_date)  # > 0: relative is older
    rel = _Lower(_word(relationship, candidate.sex))
    advice = _("You can continue; the bureau may ask you for proof of the relationship, such as the household register.")
    if relationship in _OLDER_BY and gap < _OLDER_BY[relationship]:
        return [Reason(
            "age_gap_too_small",
            _("The ID numbers say your %(relationship)s is less than %(years)s years older than you. "
              "The bureau will check this relationship."),
            advice, {"relationship": rel, "years": _OLDER_BY[relationship]},
        )]
    if relationship in _YOUNGER_BY and -gap < _YOUNGER_BY[relationship]:
        return [Reason(
            "age_gap_too_small",
            _("The ID numbers say your %(relationship)s is less than %(years)s years younger than you. "
              "The bureau will check this relationship."),
            advice, {"relationship": rel, "years": _YOUNGER_BY[relationship]},
        )]
    if relationship == Relationship.PARENT_IN_LAW and gap < 0:
        return [Reason(
            "age_gap_too_small",
            _("The ID numbers say your spouse's parent is younger than you. The bureau will check this relationship."),
            advice,
        )]
    if relationship == Relationship.SPOUSE:
        too_young = [age_on(b, today) for b in (holder.birth_date, candidate.birth_date)]
        if min(too_young) < policy.marriage_age:
            return [Reason(
                "age_spouse_too_young",
                _("The ID numbers say one of you is younger than %(age)s, the legal age for marriage. "
                  "The bureau will check this relationship."),
                advice, {"age": policy.marriage_age},
            )]
    return []


def _years_between(older: datetime.date, younger: datetime.date) -> int:
    """Whole years from ``older`` to ``younger`` (negative when ``older`` is the later date)."""
    if older <= younger:
        return age_on(older, younger)
    return -age_on(younger, older)


# -- The public checker: facts from a short form instead of the registry ------------------------


def facts_from_checker(
    scheme: str, region_code: str, region_name: str, age: int | None, today: datetime.date, *, insured: bool = True,
    status: str = InsuranceStatus.ACTIVE,
) -> PersonFacts:
    """Facts for the anonymous checker: a birth date is approximated from the age given."""
    birth = None
    if age is not None:
        try:
            birth = today.replace(year=today.year - age) - datetime.timedelta(days=1)
        except ValueError:  # 29 February
            birth = today.replace(year=today.year - age, day=28) - datetime.timedelta(days=1)
    if not insured:
        return PersonFacts.unknown(birth_date=birth)
    return PersonFacts(
        known=True, scheme=scheme, status=status, region_code=region_code, region_name=region_name,
        birth_date=birth, has_login=True,
    )
