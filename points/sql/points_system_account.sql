-- Get or create a deferred system/campaign account (issuance, spend, expiry, prize, adjustment, holds...).
-- (Two look-ups rather than IS NOT DISTINCT FROM, which no index can serve.)

CREATE OR REPLACE FUNCTION points_system_account(p_owner text, p_kind text, p_campaign bigint, p_asset text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
  IF p_campaign IS NULL THEN
    SELECT id INTO v FROM points_account
     WHERE owner_type = p_owner AND kind = p_kind AND user_id IS NULL AND campaign_id IS NULL
       AND partner_id IS NULL AND asset_id = p_asset;
  ELSE
    SELECT id INTO v FROM points_account
     WHERE owner_type = p_owner AND kind = p_kind AND user_id IS NULL AND campaign_id = p_campaign
       AND partner_id IS NULL AND asset_id = p_asset;
  END IF;
  IF v IS NULL THEN
    INSERT INTO points_account (asset_id, owner_type, kind, user_id, campaign_id, partner_id, balance, deferred,
                                no_negative, tracks_lots, created_at)
    VALUES (p_asset, p_owner, p_kind, NULL, p_campaign, NULL, 0, true, false, false, now())
    ON CONFLICT DO NOTHING RETURNING id INTO v;
    IF v IS NULL THEN
      RETURN points_system_account(p_owner, p_kind, p_campaign, p_asset);
    END IF;
  END IF;
  RETURN v;
END $$;
