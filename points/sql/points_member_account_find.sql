-- Find (never create) a member's wallet: debits must not create empty wallets as a side effect.
-- PL/pgSQL, not LANGUAGE sql: Postgres (before 18) plans a SQL function that it cannot inline afresh in every
-- transaction that calls it (every spin, order and balance read does), while PL/pgSQL keeps its plans for the session
-- (ADR 0004).

CREATE OR REPLACE FUNCTION points_member_account_find(p_user bigint, p_asset text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT a.id FROM points_account a
           WHERE a.owner_type = 'member' AND a.kind = 'wallet' AND a.user_id = p_user AND a.asset_id = p_asset
             AND a.campaign_id IS NULL AND a.partner_id IS NULL);
END $$;
