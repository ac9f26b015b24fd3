"""Ledger invariants kept by the database itself, not only by Python.

PostgreSQL (production):
- inserting an entry moves its account's stored balance (so balance = sum of entries);
- a stored balance cannot be changed except by that trigger, and starts at zero;
- entries and transactions cannot be updated or deleted (append-only);
- each transaction's entries sum to zero, checked at commit (deferred constraint trigger);
- the CHECK constraint keeps personal balances >= 0, so an overdraft aborts the insert.
SQLite (local runs) gets the balance trigger and the append-only rule for entries.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION ledger_entry_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE payments_ledgeraccount SET balance_fen = balance_fen + NEW.amount_fen WHERE id = NEW.account_id;
  RETURN NEW;
END $$;
CREATE TRIGGER ledger_entry_apply AFTER INSERT ON payments_ledgerentry
  FOR EACH ROW EXECUTE FUNCTION ledger_entry_apply();

CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger rows are append-only: %% on %% refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON payments_ledgerentry
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_transaction_append_only BEFORE UPDATE OR DELETE ON payments_ledgertransaction
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE FUNCTION ledger_account_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.balance_fen <> 0 THEN
      RAISE EXCEPTION 'a ledger account starts at zero' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
  ELSIF NEW.balance_fen IS DISTINCT FROM OLD.balance_fen AND pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'a ledger balance changes only through ledger entries'
      USING ERRCODE = 'integrity_constraint_violation';
  ELSIF NEW.kind IS DISTINCT FROM OLD.kind OR NEW.allow_negative IS DISTINCT FROM OLD.allow_negative THEN
    RAISE EXCEPTION 'a ledger account cannot change kind' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER ledger_account_guard BEFORE INSERT OR UPDATE ON payments_ledgeraccount
  FOR EACH ROW EXECUTE FUNCTION ledger_account_guard();

CREATE OR REPLACE FUNCTION ledger_transaction_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE total bigint;
BEGIN
  SELECT COALESCE(SUM(amount_fen), 0) INTO total FROM payments_ledgerentry WHERE transaction_id = NEW.transaction_id;
  IF total <> 0 THEN
    RAISE EXCEPTION 'ledger transaction %% does not sum to zero (%%)', NEW.transaction_id, total
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_transaction_balanced AFTER INSERT ON payments_ledgerentry
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balanced();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS ledger_transaction_balanced ON payments_ledgerentry;
DROP TRIGGER IF EXISTS ledger_account_guard ON payments_ledgeraccount;
DROP TRIGGER IF EXISTS ledger_transaction_append_only ON payments_ledgertransaction;
DROP TRIGGER IF EXISTS ledger_entry_append_only ON payments_ledgerentry;
DROP TRIGGER IF EXISTS ledger_entry_apply ON payments_ledgerentry;
DROP FUNCTION IF EXISTS ledger_transaction_balanced, ledger_account_guard, ledger_refuse_change, ledger_entry_apply;
"""

SQLITE_FORWARD = [
    """CREATE TRIGGER ledger_entry_apply AFTER INSERT ON payments_ledgerentry
       BEGIN UPDATE payments_ledgeraccount SET balance_fen = balance_fen + NEW.amount_fen WHERE id = NEW.account_id; END""",
    """CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON payments_ledgerentry
       BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only'); END""",
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS ledger_entry_apply", "DROP TRIGGER IF EXISTS ledger_entry_no_update"]


def forward(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=())
    elif connection.vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif connection.vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


def create_system_accounts(apps, schema_editor):
    LedgerAccount = apps.get_model("payments", "LedgerAccount")
    for kind in ("premium_fund", "contributions"):
        if not LedgerAccount.objects.filter(kind=kind).exists():
            LedgerAccount.objects.create(kind=kind, allow_negative=(kind == "contributions"))


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_ledger")]
    operations = [
        migrations.RunPython(forward, backward),
        migrations.RunPython(create_system_accounts, migrations.RunPython.noop),
    ]
