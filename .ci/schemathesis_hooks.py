"""schemathesis hooks of .ci/api_contract.sh.

Valid requests (positive mode) get a fresh Idempotency-Key each, so a generated key that repeats
does not turn them into 409s, and a real e-voucher (from the file API_CONTRACT_VOUCHERS, one per
line, taken in turn), so some settlements succeed. Invalid requests (negative mode) are left as
generated: their header or voucher may be the invalid part.
"""

from __future__ import annotations

import itertools
import os
import uuid
from pathlib import Path
from typing import Any

import schemathesis

_path = os.environ.get("API_CONTRACT_VOUCHERS", "")
_vouchers = [line.strip() for line in Path(_path).read_text(encoding="utf-8").splitlines() if line.strip()] if _path else []
_next_voucher = itertools.cycle(_vouchers) if _vouchers else None


def _positive(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    return meta is None or meta.generation.mode.is_positive


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if not _positive(case):
        return
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
    if _next_voucher is not None and isinstance(case.body, dict) and isinstance(case.body.get("voucher"), str):
        case.body["voucher"] = next(_next_voucher)
