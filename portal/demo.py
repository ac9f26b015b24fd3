"""Demo data for `make run`: regions with policies, people for every pooling case, staff.

Idempotent: people go through the same registry import as the bureau's files, credits are
keyed by reference, and staff accounts are updated in place.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from accounts.idnumbers import make_id_number
from accounts.models import InsuredPerson, Office, Region, RegionPolicy, Role, User
from accounts.registry import import_registry

DEMO_PASSWORD = "Demo-2026-pass"
HAIKOU, SANYA, CHANGSHA, NANJING = "460100", "460200", "430100", "320100"


@dataclass(frozen=True)
class DemoPerson:
    key: str
    name: str
    region: str
    birth: str
    seq: int
    scheme: str
    status: str
    phone: str
    login: bool
    note: str

    @property
    def id_number(self) -> str:
        return make_id_number(self.region, datetime.date.fromisoformat(self.birth), self.seq)


PEOPLE = [
    DemoPerson("holder", "张伟", HAIKOU, "1975-03-12", 11, "employee", "active", "13900000001", True,
               "holder, employee scheme; last month's statement under 对账单"),
    DemoPerson("spouse", "王丽", HAIKOU, "1977-06-08", 22, "flexible", "active", "13900000002", True,
               "his wife, flexible employment, her own balance ¥800"),
    DemoPerson("mother", "李秀英", HAIKOU, "1948-09-30", 42, "resident", "active", "13900000003", True,
               "his mother, resident scheme, already pooled"),
    DemoPerson("father", "张建国", HAIKOU, "1946-01-15", 13, "employee", "active", "13900000003", False,
               "his father, retired employee, no portal log-in (shares the mother's phone)"),
    DemoPerson("son", "张小明", HAIKOU, "2016-04-01", 15, "resident", "active", "", False,
               "his son, 10 years old: joins without consent"),
    DemoPerson("sister", "张敏", SANYA, "1980-11-11", 24, "resident", "active", "13900000006", True,
               "his sister, insured in 三亚: another pooling region"),
    DemoPerson("uncle", "张国栋", HAIKOU, "1950-02-02", 17, "resident", "terminated", "13900000007", False,
               "insurance terminated: cannot be bound"),
    DemoPerson("suspended", "吴磊", HAIKOU, "1985-07-07", 19, "employee", "suspended", "13900000008", True,
               "employee with suspended insurance: cannot share"),
    DemoPerson("zero", "刘洋", HAIKOU, "1992-12-01", 31, "employee", "active", "13900000009", True,
               "employee with a zero balance"),
    DemoPerson("hunan", "陈静", CHANGSHA, "1983-03-03", 26, "employee", "active", "13900000010", True,
               "employee in 长沙 (Hunan: pooling within the province)"),
    DemoPerson("newcomer", "黄志强", HAIKOU, "1960-08-18", 35, "employee", "active", "13900000011", False,
               "not signed up yet: try sign-up with this ID number and name"),
]


def _policies() -> None:
    regions = Region.objects.in_bulk([HAIKOU, SANYA, "430000", "320000"])
    start = datetime.date(2024, 1, 1)
    RegionPolicy.objects.update_or_create(
        region=regions[HAIKOU], effective_from=start,
        defaults={"max_beneficiaries": 6, "pooling_scope": "region", "annual_cap_fen": 2_000_000,
                  "notes": "海口: pooling inside 海口 only (demo)"},
    )
    RegionPolicy.objects.update_or_create(
        region=regions[SANYA], effective_from=start,
        defaults={"max_beneficiaries": 6, "pooling_scope": "region", "notes": "三亚 (demo)"},
    )
    RegionPolicy.objects.update_or_create(
        region=regions["430000"], effective_from=start,
        defaults={"pooling_scope": "province", "allowed_relationships": ["spouse", "parent", "child"],
                  "max_beneficiaries": 5, "notes": "湖南: within Hunan, spouse/parents/children only (demo)"},
    )
    RegionPolicy.objects.update_or_create(
        region=regions["320000"], effective_from=start,
        defaults={"pooling_scope": "national", "max_beneficiaries": 10, "notes": "江苏: nationwide (demo)"},
    )


def _registry() -> dict[str, InsuredPerson]:
    lines = ["id_number,name,phone,scheme,status,region_code"]
    for p in PEOPLE:
        lines.append(f"{p.id_number},{p.name},{p.phone},{p.scheme},{p.status},{p.region}")
    result = import_registry("\n".join(lines) + "\n")
    if not result.ok:
        raise RuntimeError("; ".join(str(e) for e in result.errors))
    return {p.key: InsuredPerson.objects.by_id_number(p.id_number) for p in PEOPLE}  # type: ignore[misc]


def _citizens(people: dict[str, InsuredPerson]) -> None:
    for p in PEOPLE:
        if not p.login:
            continue
        person = people[p.key]
        user = User.objects.filter(person=person).first() or User(
            username=f"p{person.pk}", role=Role.CITIZEN, person=person, first_name=person.name
        )
        user.set_password(DEMO_PASSWORD)
        user.save()


def _staff() -> tuple[User, User]:
    office, _ = Office.objects.update_or_create(
        name="海口市医保服务大厅 适老化窗口",
        defaults={"region_id": HAIKOU, "address": "海口市龙华区 (demo)", "opening_hours": "周一至周五 9:00–17:00"},
    )
    counter = User.objects.filter(username="counter").first() or User(username="counter")
    counter.role, counter.office, counter.first_name = Role.COUNTER, office, "陈帮办"
    counter.set_password(DEMO_PASSWORD)
    counter.save()
    admin = User.objects.filter(username="admin").first() or User(username="admin")
    admin.role, admin.is_staff, admin.is_superuser, admin.first_name = Role.BUREAU, True, True, "医保局管理员"
    admin.set_password(DEMO_PASSWORD)
    admin.save()
    return counter, admin


def load() -> list[str]:
    """Load everything; return the lines to print for the person running `make run`."""
    _policies()
    people = _registry()
    _citizens(people)
    _staff()
    report = ["", f"Demo log-ins (password for all: {DEMO_PASSWORD})", ""]
    for p in PEOPLE:
        who = "log in with this ID number" if p.login else "no log-in"
        report.append(f"  {p.name:<4} {p.id_number}  {who:<28} {p.note}")
    report += ["", "  counter assistant: counter    bureau admin (/admin/): admin", ""]
    for module in ("pooling.demo", "payments.demo", "statements.demo"):
        try:
            seed = __import__(module, fromlist=["seed"]).seed
        except (ImportError, AttributeError):
            continue
        report += seed(people)
    return report
