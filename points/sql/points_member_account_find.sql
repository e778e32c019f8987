-- Find (never create) a member's wallet: debits must not create empty wallets as a side effect.

CREATE OR REPLACE FUNCTION points_member_account_find(p_user bigint, p_asset text) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT id FROM points_account
   WHERE owner_type = 'member' AND kind = 'wallet' AND user_id = p_user AND asset_id = p_asset
     AND campaign_id IS NULL AND partner_id IS NULL
$$;
