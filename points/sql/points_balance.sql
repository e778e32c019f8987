-- A member's balance in one statement: what points.selectors.balance_for returns, for the balance API, for
-- other apps' SQL (a spin answers with the new balance) and for the pages. A lot counts while remaining > 0 and not expired
-- (expires_at > p_now: a lot expiring exactly now is gone); spendable once available_at <= p_now, pending before.
-- p_soon: how far ahead "expiring soon" looks (points.selectors.EXPIRING_SOON). A member without a wallet has
-- zeros and NULLs. PL/pgSQL, not SQL: its plan is cached per connection (a SQL function is planned on every call,
-- which cost more than running it).

CREATE OR REPLACE FUNCTION points_balance(p_user bigint, p_asset text, p_now timestamptz, p_soon interval)
RETURNS TABLE (spendable bigint, pending bigint, expiring_soon bigint, next_expiry_at timestamptz,
               next_expiry_amount bigint, next_available_at timestamptz)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_account bigint := points_member_account_find(p_user, p_asset);
BEGIN
  RETURN QUERY
  WITH live AS (
    SELECT l.remaining, l.available_at <= p_now AS available, l.expires_at, l.available_at
      FROM points_lot l
     WHERE l.account_id = v_account
       AND l.remaining > 0 AND (l.expires_at IS NULL OR l.expires_at > p_now)
  ), agg AS (
    SELECT coalesce(sum(remaining) FILTER (WHERE available), 0)::bigint AS spendable,
           coalesce(sum(remaining) FILTER (WHERE NOT available), 0)::bigint AS pending,
           coalesce(sum(remaining) FILTER (WHERE available AND expires_at <= p_now + p_soon), 0)::bigint AS soon,
           min(expires_at) FILTER (WHERE available) AS next_expiry,
           min(available_at) FILTER (WHERE NOT available) AS next_available
      FROM live
  )
  SELECT agg.spendable, agg.pending, agg.soon, agg.next_expiry,
         coalesce((SELECT sum(remaining) FROM live WHERE available AND expires_at = agg.next_expiry), 0)::bigint,
         agg.next_available
    FROM agg;
END $$;
