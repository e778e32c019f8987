# ruff: noqa: T201, E501 (a command-line report; mutant texts are quoted whole)
"""A bounded mutation test of the ledger: hand-made textual mutants of points_post(), points_post_batch(),
points_expiry_at() and points/services.py, applied one at a time, each run against tests/points (-x).

Not a test module (pytest does not collect it: no test_ prefix) and not part of `make test`: it takes
~10-40 minutes on a loaded 2-core machine. Run it by hand:

    .venv/bin/python tests/mutation/run_ledger_mutants.py             # "after": all of tests/points
    .venv/bin/python tests/mutation/run_ledger_mutants.py --before    # without tests/points/test_ledger_bites.py
    .venv/bin/python tests/mutation/run_ledger_mutants.py --only 3 7  # some mutants

How: the working tree is copied to a scratch directory (the shared tree is never changed). A Python mutant edits
points/services.py in the copy. A SQL mutant is installed with CREATE OR REPLACE into the mutation test database
(TEST_DATABASE_TEST_NAME, default test_pm_mutants; created once by an unmutated baseline run, then reused with
--reuse-db) and the file's original text is re-installed afterwards, whatever happens. A mutant is killed when the
test run fails; the first failing test is recorded.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
BITES = "tests/points/test_ledger_bites.py"
# Fast, targeted files first so -x stops early; the random (Hypothesis / threaded) ones last.
LAST = ("test_stateful.py", "test_concurrency.py")
POST = "points/sql/points_post.sql"
BATCH = "points/sql/points_post_batch.sql"
EXPIRY = "points/sql/points_expiry_at.sql"
SERVICES = "points/services.py"


@dataclass(frozen=True)
class Mutant:
    path: str
    old: str
    new: str
    what: str


MUTANTS: list[Mutant] = [
    # --- points_post ---------------------------------------------------------------------------------
    Mutant(POST, "IF p_debit = p_credit THEN", "IF false THEN", "no same-account refusal"),
    Mutant(
        POST,
        "AND v_old.kind = p_kind AND v_old.reverses_id IS NOT DISTINCT FROM p_reverses\n",
        "AND v_old.reverses_id IS NOT DISTINCT FROM p_reverses\n",
        "replay ignores kind",
    ),
    Mutant(
        POST,
        "AND v_old.kind = p_kind AND v_old.reverses_id IS NOT DISTINCT FROM p_reverses\n",
        "AND v_old.kind = p_kind\n",
        "replay ignores the reversed transfer",
    ),
    Mutant(
        POST,
        "       AND v_old.campaign_id IS NOT DISTINCT FROM p_campaign THEN",
        "       THEN",
        "replay ignores campaign",
    ),
    Mutant(
        POST,
        "IF v_old.debit_id = p_debit AND v_old.credit_id = p_credit AND v_old.amount = p_amount\n       AND",
        "IF v_old.debit_id = p_debit AND v_old.credit_id = p_credit\n       AND",
        "replay ignores amount",
    ),
    Mutant(
        POST,
        "IF v_old.debit_id = p_debit AND v_old.credit_id = p_credit AND",
        "IF v_old.credit_id = p_credit AND",
        "replay ignores the debit account",
    ),
    Mutant(
        POST,
        "AND v_old.asset_id = p_asset AND v_old.kind = p_kind AND v_old.reverses_id",
        "AND v_old.kind = p_kind AND v_old.reverses_id",
        "replay ignores asset",
    ),
    Mutant(
        POST,
        "ELSE l.available_at <= p_now AND (l.expires_at IS NULL OR l.expires_at > p_now) END",
        "ELSE l.available_at <= p_now AND (l.expires_at IS NULL OR l.expires_at >= p_now) END",
        "a lot expiring exactly now is spendable",
    ),
    Mutant(
        POST,
        "ELSE l.available_at <= p_now AND (l.expires_at IS NULL OR l.expires_at > p_now) END",
        "ELSE (l.expires_at IS NULL OR l.expires_at > p_now) END",
        "pending points are spendable",
    ),
    Mutant(
        POST,
        "AND (l.expires_at IS NULL OR l.expires_at > p_now))\n          ELSE d.balance END;",
        "AND (l.expires_at IS NULL OR l.expires_at >= p_now))\n          ELSE d.balance END;",
        "'available' detail counts a lot expiring now",
    ),
    Mutant(
        POST,
        "ORDER BY (p_reverses IS NOT NULL AND l.transfer_id = p_reverses) DESC, l.expires_at",
        "ORDER BY l.expires_at",
        "a reversal does not take back its own lot first",
    ),
    Mutant(POST, "l.expires_at ASC NULLS LAST, l.id", "l.expires_at DESC NULLS LAST, l.id", "latest-expiring first"),
    Mutant(POST, "l.expires_at ASC NULLS LAST, l.id", "l.expires_at ASC NULLS FIRST, l.id", "never-expiring first"),
    Mutant(POST, "l.expires_at ASC NULLS LAST, l.id", "l.id", "oldest lot first (ignores expiry)"),
    Mutant(
        POST,
        "WHERE id = p_debit AND (NOT no_negative OR balance >= p_amount)",
        "WHERE id = p_debit",
        "balance guard dropped (never-negative left to the CHECK)",
    ),
    Mutant(POST, "    IF v_need > 0 THEN", "    IF v_need > p_amount THEN", "not enough live lots still posts"),
    Mutant(
        POST,
        "      UPDATE points_account SET balance = balance + p_amount WHERE id = p_debit;  -- give it back\n",
        "",
        "a refusal for lack of live lots keeps the debit",
    ),
    Mutant(
        POST,
        "    IF v_taken THEN  -- give back the debit taken above\n"
        "      UPDATE points_account SET balance = balance + p_amount WHERE id = p_debit;\n    END IF;\n",
        "",
        "a replay debits the balance again",
    ),
    Mutant(
        POST,
        "SELECT c.id, v_id, l.campaign_id, sum(lc.amount), sum(lc.amount), p_now, l.expires_at, p_now",
        "SELECT c.id, v_id, l.campaign_id, sum(lc.amount), sum(lc.amount), p_now, NULL::timestamptz, p_now",
        "restored points never expire",
    ),
    Mutant(
        POST,
        "SELECT c.id, v_id, l.campaign_id, sum(lc.amount), sum(lc.amount), p_now, l.expires_at, p_now",
        "SELECT c.id, v_id, p_campaign, sum(lc.amount), sum(lc.amount), p_now, l.expires_at, p_now",
        "restored points take the reversal's campaign, not their lot's",
    ),
    Mutant(
        POST,
        "IF p_reverses IS NOT NULL AND EXISTS (SELECT 1 FROM points_lotconsumption",
        "IF false AND EXISTS (SELECT 1 FROM points_lotconsumption",
        "a reversed spend comes back as a fresh lot",
    ),
    Mutant(
        POST,
        "VALUES (c.id, v_id, p_campaign, p_amount, p_amount, greatest(coalesce(p_available_at, p_now), p_now),",
        "VALUES (c.id, v_id, p_campaign, p_amount, p_amount, p_now,",
        "pending credits are available at once",
    ),
    Mutant(POST, "                p_expires_at, p_now);", "                NULL, p_now);", "credits never expire"),
    Mutant(
        POST,
        "VALUES (d.id, -p_amount, v_id)",
        "VALUES (d.id, p_amount, v_id)",
        "system debit recorded as a credit",
    ),
    Mutant(
        POST,
        "IF d.asset_id <> p_asset OR c.asset_id <> p_asset THEN",
        "IF c.asset_id <> p_asset THEN",
        "debit asset not checked",
    ),
    # --- points_post_batch ---------------------------------------------------------------------------
    Mutant(
        BATCH, "              WHERE NOT a.deferred) THEN", "              WHERE false) THEN", "batch may debit a wallet"
    ),
    Mutant(BATCH, "WHERE t.dr = t.cr) THEN", "WHERE false) THEN", "batch same-account lines pass"),
    Mutant(
        BATCH,
        "FROM (SELECT credit_id, sum(amount) AS total FROM ins GROUP BY credit_id) s",
        "FROM (SELECT credit_id, amount AS total FROM ins) s",
        "two awards to one member credit the balance once",
    ),
    Mutant(BATCH, "           input.expires, p_now", "           NULL, p_now", "batch lots never expire"),
    Mutant(
        BATCH,
        "SELECT ins.credit_id, ins.id, p_campaign, ins.amount, ins.amount, greatest(coalesce(input.avail, p_now), p_now),",
        "SELECT ins.credit_id, ins.id, p_campaign, ins.amount, ins.amount, p_now,",
        "batch pending awards available at once",
    ),
    Mutant(BATCH, "      OR t.kind <> p_kind OR", "      OR", "batch replay ignores kind"),
    Mutant(
        BATCH,
        " OR t.campaign_id IS DISTINCT FROM p_campaign OR",
        " OR",
        "batch replay ignores campaign",
    ),
    Mutant(BATCH, " OR t.amount <> i.amount", "", "batch replay ignores amount"),
    Mutant(
        BATCH,
        "SELECT debit_id, -sum(amount), min(id) FROM ins GROUP BY debit_id",
        "SELECT debit_id, sum(amount), min(id) FROM ins GROUP BY debit_id",
        "batch system debit recorded as a credit",
    ),
    # --- points_expiry_at ----------------------------------------------------------------------------
    Mutant(
        EXPIRY,
        "v_day := (p_earned AT TIME ZONE v_policy.timezone)::date;",
        "v_day := (p_earned AT TIME ZONE 'UTC')::date;",
        "the day of earning is the UTC day",
    ),
    Mutant(
        EXPIRY,
        "RETURN v_end::timestamp AT TIME ZONE v_policy.timezone;",
        "RETURN v_end::timestamp AT TIME ZONE 'UTC';",
        "expiry at UTC midnight",
    ),
    Mutant(
        EXPIRY,
        "WHEN 'days' THEN v_day + v_policy.days + 1",
        "WHEN 'days' THEN v_day + v_policy.days",
        "days rule one day short",
    ),
    # --- points/services.py --------------------------------------------------------------------------
    Mutant(
        SERVICES,
        "    if type(debit) is type(credit) and debit == credit:\n",
        "    if False:\n",
        "no same-account refusal before the database",
    ),
    Mutant(
        SERVICES,
        "                amount=hold.amount,\n                kind=kinds.CAPTURE,",
        "                amount=hold.amount + 1,\n                kind=kinds.CAPTURE,",
        "a capture posts more than held",
    ),
    Mutant(
        SERVICES,
        "credit=credit or System(AccountKind.SPEND, hold.campaign_id),",
        "credit=credit or System(AccountKind.SPEND),",
        "a capture is spent outside its campaign",
    ),
    Mutant(
        SERVICES,
        "                reverses_id=hold.place_transfer_id,\n                expires_at=None,",
        "                reverses_id=None,\n                expires_at=None,",
        "a void returns fresh never-expiring points",
    ),
    Mutant(
        SERVICES,
        "    if existing is not None and existing.idempotency_key != key:",
        "    if False:",
        "a second reversal is left to the unique index",
    ),
    Mutant(
        SERVICES,
        "if original.kind in (kinds.HOLD, kinds.CAPTURE, kinds.VOID):",
        "if original.kind in (kinds.HOLD,):",
        "a capture or void can be reversed directly",
    ),
    Mutant(
        SERVICES,
        "Lot.objects.filter(remaining__gt=0, expires_at__lte=now)",
        "Lot.objects.filter(remaining__gt=0, expires_at__lt=now)",
        "the expiry job misses lots expiring exactly now",
    ),
    Mutant(
        SERVICES,
        "                    lot_id=lot_id,\n",
        "                    lot_id=None,\n",
        "the expiry job does not name its lot",
    ),
    Mutant(
        SERVICES,
        "[default_expiry if a.expires_at is _AUTO else a.expires_at for a in awards]",
        "[default_expiry for a in awards]",
        "a batch line's own expiry is ignored",
    ),
    Mutant(
        SERVICES,
        "    if len(set(keys)) != len(keys):\n",
        "    if False:\n",
        "duplicate keys in one batch pass",
    ),
    Mutant(
        SERVICES,
        "        expires_sql, expires_params = EXPIRY_AT_SQL, [campaign_id, asset, now]",
        "        expires_sql, expires_params = EXPIRY_AT_SQL, [None, asset, now]",
        "a posting ignores its campaign's expiry policy",
    ),
]


def _copy_tree(dest: Path) -> None:
    ignore = shutil.ignore_patterns(
        ".venv",
        ".git",
        ".tools",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".hypothesis",
        "test-artifacts",
        "bench",
    )
    shutil.copytree(ROOT, dest, ignore=ignore, dirs_exist_ok=True)


def _test_args(before: bool) -> list[str]:
    files = sorted(p.name for p in (ROOT / "tests" / "points").glob("test_*.py"))
    first = ["test_ledger_bites.py", "test_ledger.py", "test_expiry.py"]
    ordered = [f for f in first if f in files] + [f for f in files if f not in first and f not in LAST]
    ordered += [f for f in LAST if f in files]
    if before:
        ordered = [f for f in ordered if f != Path(BITES).name]
    return [f"tests/points/{f}" for f in ordered]


def _env(db_name: str, redis_db: str) -> dict[str, str]:
    env = dict(os.environ)
    env["TEST_DATABASE_TEST_NAME"] = db_name
    env["REDIS_URL"] = env["CELERY_BROKER_URL"] = f"redis://127.0.0.1:6379/{redis_db}"
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    return env


def _install_sql(text: str, db_name: str, env: dict[str, str], cwd: Path) -> None:
    """CREATE OR REPLACE the given file text in the mutation test database (the test settings' server)."""
    script = (
        "import sys, psycopg, django\n"
        "django.setup()\n"
        "from django.conf import settings\n"
        "d = settings.DATABASES['default']\n"
        "with psycopg.connect(dbname=sys.argv[1], user=d['USER'], host=d['HOST'] or None, port=d['PORT'] or None,"
        " password=d['PASSWORD'] or None, autocommit=True) as c:\n"
        "    c.execute('SET check_function_bodies = off')\n"
        "    c.execute(sys.stdin.read())\n"
    )
    subprocess.run([str(PYTHON), "-c", script, db_name], input=text, text=True, cwd=cwd, env=env, check=True)


def _run_tests(cwd: Path, env: dict[str, str], tests: list[str], *, create: bool, timeout: int) -> tuple[bool, str]:
    args = [str(PYTHON), "-m", "pytest", *tests, "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    args += ["--create-db", "--reuse-db"] if create else ["--reuse-db"]  # created once, then kept
    try:
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return False, "timeout"
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", done.stdout, re.MULTILINE)
    return done.returncode == 0, (failed[0] if failed else done.stdout.strip().splitlines()[-1:][0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", action="store_true", help=f"leave out {BITES}")
    parser.add_argument("--only", type=int, nargs="*", help="mutant numbers (1-based)")
    parser.add_argument("--db", default=os.environ.get("TEST_DATABASE_TEST_NAME", "test_pm_mutants"))
    parser.add_argument("--redis-db", default="12")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per mutant (a timeout counts as killed)")
    opts = parser.parse_args()

    env = _env(opts.db, opts.redis_db)
    tests = _test_args(opts.before)
    chosen = [(i, m) for i, m in enumerate(MUTANTS, 1) if not opts.only or i in opts.only]
    with tempfile.TemporaryDirectory(prefix="ledger_mutants_") as scratch:
        tree = Path(scratch)
        _copy_tree(tree)
        for _i, m in chosen:  # every mutant must still apply to the current source
            count = (tree / m.path).read_text().count(m.old)
            if count != 1:
                print(f"mutant {_i} ({m.what}): its text occurs {count} times in {m.path}", file=sys.stderr)
                return 2
        ok, detail = _run_tests(tree, env, tests, create=True, timeout=opts.timeout)
        if not ok:
            print(f"the unmutated suite fails ({detail}): fix it first", file=sys.stderr)
            return 2
        killed = 0
        for i, m in chosen:
            path = tree / m.path
            original = path.read_text()
            mutated = original.replace(m.old, m.new)
            started = time.monotonic()
            try:
                path.write_text(mutated)
                if m.path.endswith(".sql"):
                    _install_sql(mutated, opts.db, env, tree)
                ok, detail = _run_tests(tree, env, tests, create=False, timeout=opts.timeout)
            finally:
                path.write_text(original)
                if m.path.endswith(".sql"):
                    _install_sql(original, opts.db, env, tree)
            killed += not ok
            verdict = f"killed by {detail}" if not ok else "SURVIVED"
            print(f"{i:3d} {m.path:32s} {m.what:55s} {verdict} ({time.monotonic() - started:.0f}s)", flush=True)
    total = len(chosen)
    label = "before (without test_ledger_bites.py)" if opts.before else "after"
    print(f"\n{label}: killed {killed}/{total} = {100 * killed / total:.0f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
