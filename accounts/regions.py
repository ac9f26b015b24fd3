"""The national administrative division codes, read from python-stdnum's copy of the list."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import stdnum

_ENTRY = re.compile(r'^(\s*)(\d+) (province|county)="(.*)"$')
_SPAN = re.compile(r"^\[(\d*)-(\d*)\](.*)$")


def iter_divisions() -> Iterator[tuple[str, str, bool]]:
    """Yield (code, name, current) for every 6-digit division in the list."""
    path = Path(stdnum.__file__).parent / "cn" / "loc.dat"
    province = ""
    province_name = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _ENTRY.match(line)
        if not match:
            continue
        indent, digits, kind, value = match.groups()
        if kind == "province" and not indent:
            province, province_name = digits, value
            yield f"{province}0000", province_name, True
            continue
        code = province + digits
        if code.endswith("0000"):
            continue
        # A code may have been reused: "[1988-2000]通什市,[2001-2002]五指山市"; take the last name.
        names = value.split(",")
        last = names[-1]
        span = _SPAN.match(last)
        if span:
            _start, end, name = span.groups()
            yield code, name, end == ""
        else:
            yield code, last, True


def ensure_reference_data() -> None:
    """Load the division codes and the national default policy if they are missing.

    Migrations do this on a fresh install; tests that flush the database call it again.
    """
    import datetime

    from .models import Region, RegionPolicy

    if not Region.objects.exists():
        Region.objects.bulk_create(
            [Region(code=c, name=n, province_code=c[:2], current=cur) for c, n, cur in iter_divisions()],
            batch_size=1000,
            ignore_conflicts=True,
        )
    if not RegionPolicy.objects.filter(region__isnull=True).exists():
        RegionPolicy.objects.create(region=None, effective_from=datetime.date(2021, 1, 1))
