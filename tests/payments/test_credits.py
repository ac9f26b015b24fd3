"""`import_credits`: validate every row first, then credit once per reference."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from payments import ledger
from tests.conftest import make_id

pytestmark = pytest.mark.django_db


def run(tmp_path, text: str) -> tuple[str, str]:
    path = tmp_path / "credits.csv"
    path.write_text(text, encoding="utf-8")
    out, err = StringIO(), StringIO()
    call_command("import_credits", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_credits_each_reference_once(tmp_path, holder):
    text = f"id_number,amount_fen,period,reference\n{holder.id_number},12000,2026-10,C-1\n{holder.id_number},8000,2026-11,C-2\n"
    out, _ = run(tmp_path, text)
    assert "created 2" in out
    assert ledger.balance_of(holder) == 20_000
    out, _ = run(tmp_path, text)
    assert "created 0, already present 2" in out
    assert ledger.balance_of(holder) == 20_000


def test_it_writes_nothing_when_any_row_is_bad(tmp_path, holder, mother):
    text = (
        "id_number,amount_fen,period,reference\n"
        f"{holder.id_number},12000,2026-10,C-1\n"  # fine
        "123,100,2026-10,C-2\n"  # bad ID
        f"{make_id()},100,2026-10,C-3\n"  # nobody has it
        f"{mother.id_number},100,2026-10,C-4\n"  # resident scheme: no account
        f"{holder.id_number},-5,2026-13,C-5\n"  # bad amount and period
        f"{holder.id_number},100,2026-10,\n"  # no reference
        f"{holder.id_number},100,2026-10,C-1\n"  # duplicate reference
    )
    with pytest.raises(CommandError, match="6 bad line"):
        run(tmp_path, text)
    assert ledger.balance_of(holder) == 0


def test_it_names_each_bad_line_and_its_reason(tmp_path, holder, mother, capsys):
    text = f"id_number,amount_fen,period,reference\n{mother.id_number},100,2026-10,C-4\n{holder.id_number},1.5,2026-10,C-5\n"
    err = StringIO()
    path = tmp_path / "c.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_credits", str(path), stderr=err)
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("line 2:") and "no personal account" in lines[0]
    assert lines[1].startswith("line 3:") and "amount_fen" in lines[1]


def test_it_refuses_a_wrong_header(tmp_path):
    with pytest.raises(CommandError):
        run(tmp_path, "id,amount\n1,2\n")
