"""One value gate: every point a campaign gives or takes passes campaign_grant / campaign_charge (campaigns/sql/),
which the Python services wrap and the prize wheel's SQL calls. ADR 0002, "One value gate".

The scan below fails when code outside the ledger posts to it directly; tests/lottery/test_value_gate.py shows the
gate is what the wheel uses (its cost, its points prizes, its multiplier cards) and that the Python wrappers fail
exactly as the ledger does."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEDGER_CALLS = ("points_post", "points_post_batch", "transfer_post", "transfers_post_batch", "hold_place")
# SQL that posts: a call with arguments (a docstring's "points_post()" is prose, not a call).
SQL_CALL = re.compile(r"\b(points_post(?:_batch)?|points_hold_place)\s*\(\s*[^)\s]", re.IGNORECASE)
SQL_DEFINITION = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+$", re.IGNORECASE)
# Rows of other apps nobody but their owner inserts.
SQL_FOREIGN_INSERT = re.compile(r"INSERT\s+INTO\s+(campaigns_multipliercard|points_\w+)", re.IGNORECASE)

# Files allowed to post to the ledger directly, each with why. points/ itself (the ledger, including its admin
# adjustments and reversals, expiry and holds) is not scanned, nor are tests/, bench/ and migrations.
ALLOWED = {
    "campaigns/sql/campaign_grant.sql": "the gate: campaign earnings",
    "campaigns/sql/campaign_charge.sql": "the gate: campaign spending",
    "campaigns/sql/campaign_hold.sql": "the gate: campaign spending held until goods are handed over",
    "campaigns/management/commands/seed_demo.py": "the demo member's history outside any campaign (no campaign)",
    "partners/sales.py": "partners' CNY rebates (clawbacks, recruiting rewards): cash owed, not member points",
    "partners/statements.py": "partners' CNY rebates, annual bonuses and payouts: cash owed, not member points",
}
SKIPPED_DIRS = {"points", "tests", "bench", ".venv", ".tools", "node_modules", "static", "media", "htmlcov"}


def _project_files(suffix: str) -> list[Path]:
    return sorted(
        p
        for p in ROOT.rglob(f"*{suffix}")
        if p.relative_to(ROOT).parts[0] not in SKIPPED_DIRS
        and "migrations" not in p.parts
        and not any(part.startswith(".") for part in p.relative_to(ROOT).parts)
    )


def _python_ledger_uses(path: Path) -> list[str]:
    """Names of the ledger's posting functions used as code, and SQL strings that call points_post."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
        if token.type == tokenize.NAME and token.string in LEDGER_CALLS:
            found.append(f"{token.start[0]}: {token.string}")
        elif token.type == tokenize.STRING and SQL_CALL.search(token.string):
            found.append(f"{token.start[0]}: SQL {SQL_CALL.search(token.string).group(1)}(")
    return found


def _sql_without_comments(text: str) -> str:
    return re.sub(r"--[^\n]*", "", text)


def _sql_ledger_calls(text: str) -> list[str]:
    code = _sql_without_comments(text)
    return [m.group(1) for m in SQL_CALL.finditer(code) if not SQL_DEFINITION.search(code[: m.start()][-60:])]


def test_the_scanner_sees_calls_and_ignores_prose_and_definitions(tmp_path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Calls points_post() for you."""\n'
        "from points.services import transfer_post as tp\n"
        'SQL = "SELECT * FROM points_post(%s, %s)"\n'
    )
    assert [use.split(": ")[1] for use in _python_ledger_uses(sample)] == ["transfer_post", "SQL points_post("]
    assert _sql_ledger_calls("-- points_post(a) in a comment\nCREATE OR REPLACE FUNCTION points_post(\n p text)") == []
    assert _sql_ledger_calls("PERFORM points_post(\n  'k', 'PTS')") == ["points_post"]


def test_no_campaign_value_bypasses_the_gate() -> None:
    offenders = []
    for path in _project_files(".py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel not in ALLOWED and (uses := _python_ledger_uses(path)):
            offenders.append(f"{rel}: {', '.join(uses)}")
    sql_files = _project_files(".sql")
    assert any(p.name == "lottery_spin.sql" for p in sql_files)
    for path in sql_files:
        rel = path.relative_to(ROOT).as_posix()
        if rel not in ALLOWED and (calls := _sql_ledger_calls(path.read_text())):
            offenders.append(f"{rel}: {', '.join(calls)}")
    assert offenders == [], (
        "post campaign points through campaigns.services.campaign_points_grant/charge (SQL: campaign_grant/"
        "campaign_charge); a genuinely non-campaign ledger use goes into ALLOWED with its reason"
    )


def test_no_app_inserts_rows_another_app_owns() -> None:
    offenders = []
    for path in _project_files(".sql"):
        rel = path.relative_to(ROOT).as_posix()
        for table in SQL_FOREIGN_INSERT.findall(_sql_without_comments(path.read_text())):
            if not rel.startswith(table.split("_")[0] + "/"):
                offenders.append(f"{rel}: INSERT INTO {table}")
    assert offenders == []
