"""The SQLite database of `make run` (no DATABASE_URL) keeps the ledger's triggers through every
migration: SQLite rebuilds a table to alter a field, which silently drops its triggers."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_freshly_migrated_sqlite_database_has_the_ledger_triggers(tmp_path: Path) -> None:
    database = tmp_path / "portal.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DJANGO_DEBUG": "1",
           "DJANGO_SETTINGS_MODULE": "portal.settings", "PORTAL_VAR_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True,
                   timeout=300)
    with sqlite3.connect(database) as conn:
        triggers = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert {"ledger_entry_apply", "ledger_entry_no_update"} <= triggers
        # And they work: an entry moves its account's balance; entries cannot be changed.
        account = conn.execute("SELECT id FROM payments_ledgeraccount WHERE kind = 'contributions'").fetchone()[0]
        conn.execute("INSERT INTO payments_ledgertransaction (kind, reference, memo, created_at) "
                     "VALUES ('credit', 't', '', '2026-01-01')")
        conn.execute("INSERT INTO payments_ledgerentry (transaction_id, account_id, amount_fen, category, created_at) "
                     "VALUES (last_insert_rowid(), ?, -500, '', '2026-01-01')", [account])
        assert conn.execute("SELECT balance_fen FROM payments_ledgeraccount WHERE id = ?", [account]).fetchone()[0] == -500
        try:
            conn.execute("UPDATE payments_ledgerentry SET amount_fen = 1")
        except sqlite3.DatabaseError as exc:
            assert "append-only" in str(exc)
        else:
            raise AssertionError("an entry was changed")
