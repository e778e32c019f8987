"""A member's figures, the four things levels measure, read in ONE statement (one round trip) from the tables their
owners write: the ledger (points), invites (referrals) and check-ins (tasks). Definitions (docs/adr/0010):

- points earned: from the ledger, never the balance. The sum of transfers INTO the member's PTS wallet whose debit
  account is an `issuance` or `adjustment` account (campaign earnings through the value gate, operators' credits),
  minus transfers FROM the wallet back to such accounts (reversals of earnings, operators' deductions). Spending,
  holds and expiry do not lower it.
- spend: points the member committed to spending, net of refunds. Transfers from the wallet to a `spend` account
  (charges: spins, make-up check-ins, mall code/virtual orders) or to the `holds` account (mall goods on hold, later
  captured), minus transfers back from those accounts to the wallet (a charge reversed, a hold voided, a captured
  hold returned).
- qualified referrals: the member's invites (as inviter) with status `qualified`, counted by `qualified_at`.
- check-in days: distinct campaign-local dates the member checked in (any campaign; a make-up counts its day).

`since`/`until` (instants, `until` exclusive) restrict the ledger and invites by time and the check-ins by the local
dates `day_from`/`day_to` (exclusive); None: lifetime."""

from __future__ import annotations

from datetime import date, datetime

from django.db import connection

from levels.rules import Figures

_FIGURES_SQL = """
WITH w AS (
  SELECT a.id FROM points_account a
   WHERE a.owner_type = 'member' AND a.kind = 'wallet' AND a.user_id = %(user)s AND a.asset_id = 'PTS'
), moves AS (
  SELECT t.debit_id AS other, t.amount AS amount FROM points_transfer t JOIN w ON t.credit_id = w.id
   WHERE (%(since)s::timestamptz IS NULL OR t.created_at >= %(since)s::timestamptz)
     AND (%(until)s::timestamptz IS NULL OR t.created_at < %(until)s::timestamptz)
  UNION ALL
  SELECT t.credit_id, -t.amount FROM points_transfer t JOIN w ON t.debit_id = w.id
   WHERE (%(since)s::timestamptz IS NULL OR t.created_at >= %(since)s::timestamptz)
     AND (%(until)s::timestamptz IS NULL OR t.created_at < %(until)s::timestamptz)
), ledger AS (
  SELECT coalesce(sum(m.amount) FILTER (WHERE a.kind IN ('issuance', 'adjustment')), 0) AS earned,
         coalesce(-sum(m.amount) FILTER (WHERE a.kind IN ('spend', 'holds')), 0) AS spent
    FROM moves m JOIN points_account a ON a.id = m.other
)
SELECT l.earned, l.spent,
  (SELECT count(*) FROM referrals_invite i
    WHERE i.inviter_id = %(user)s AND i.status = 'qualified'
      AND (%(since)s::timestamptz IS NULL OR i.qualified_at >= %(since)s::timestamptz)
      AND (%(until)s::timestamptz IS NULL OR i.qualified_at < %(until)s::timestamptz)),
  (SELECT count(DISTINCT c.local_date) FROM tasks_checkin c
    WHERE c.user_id = %(user)s
      AND (%(day_from)s::date IS NULL OR c.local_date >= %(day_from)s::date)
      AND (%(day_to)s::date IS NULL OR c.local_date < %(day_to)s::date))
FROM ledger l
"""


def member_figures(
    *,
    user_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    day_from: date | None = None,
    day_to: date | None = None,
) -> Figures:
    """The member's figures (see the module docstring), in one statement."""
    params = {"user": user_id, "since": since, "until": until, "day_from": day_from, "day_to": day_to}
    with connection.cursor() as cursor:
        cursor.execute(_FIGURES_SQL, params)
        row = cursor.fetchone()
    earned, spent, referrals, days = row if row else (0, 0, 0, 0)
    return Figures(
        points_earned=max(int(earned or 0), 0),
        spend=max(int(spent or 0), 0),
        referrals=int(referrals or 0),
        checkin_days=int(days or 0),
    )
