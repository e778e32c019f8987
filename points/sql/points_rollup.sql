-- Fold deferred deltas into system balances. Only committed rows are visible to DELETE, so a posting that
-- commits later is simply picked up by the next rollup: nothing is lost or counted twice.

CREATE OR REPLACE FUNCTION points_rollup() RETURNS integer LANGUAGE sql AS $$
  WITH gone AS (DELETE FROM points_accountdelta RETURNING account_id, amount),
       sums AS (SELECT account_id, sum(amount) AS total, count(*) AS n FROM gone GROUP BY account_id),
       upd AS (UPDATE points_account a SET balance = a.balance + sums.total FROM sums
                WHERE a.id = sums.account_id RETURNING a.id)
  SELECT coalesce(sum(n), 0)::integer FROM sums;
$$;
