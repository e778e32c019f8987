-- Get or create a member's wallet for an asset.

CREATE OR REPLACE FUNCTION points_member_account(p_user bigint, p_asset text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
  SELECT id INTO v FROM points_account
   WHERE owner_type = 'member' AND kind = 'wallet' AND user_id = p_user AND asset_id = p_asset
     AND campaign_id IS NULL AND partner_id IS NULL;
  IF v IS NULL THEN
    INSERT INTO points_account (asset_id, owner_type, kind, user_id, campaign_id, partner_id, balance, deferred,
                                no_negative, tracks_lots, created_at)
    VALUES (p_asset, 'member', 'wallet', p_user, NULL, NULL, 0, false, true, p_asset = 'PTS', now())
    ON CONFLICT DO NOTHING RETURNING id INTO v;
    IF v IS NULL THEN
      SELECT id INTO v FROM points_account
       WHERE owner_type = 'member' AND kind = 'wallet' AND user_id = p_user AND asset_id = p_asset
         AND campaign_id IS NULL AND partner_id IS NULL;
    END IF;
  END IF;
  RETURN v;
END $$;
