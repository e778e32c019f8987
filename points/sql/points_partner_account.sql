-- Get or create a partner's own account of an asset (the CNY rebate payable). Directly balanced (not deferred: one
-- partner's postings are rare and serialise on the partner anyway) and allowed below zero: a clawback larger than
-- what is still unpaid carries as a negative payable (docs/adr/0011-partner-programme.md).

CREATE OR REPLACE FUNCTION points_partner_account(p_partner bigint, p_kind text, p_asset text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
  SELECT id INTO v FROM points_account
   WHERE owner_type = 'partner' AND kind = p_kind AND partner_id = p_partner AND asset_id = p_asset
     AND user_id IS NULL AND campaign_id IS NULL;
  IF v IS NULL THEN
    INSERT INTO points_account (asset_id, owner_type, kind, user_id, campaign_id, partner_id, balance, deferred,
                                no_negative, tracks_lots, created_at)
    VALUES (p_asset, 'partner', p_kind, NULL, NULL, p_partner, 0, false, false, false, now())
    ON CONFLICT DO NOTHING RETURNING id INTO v;
    IF v IS NULL THEN
      SELECT id INTO v FROM points_account
       WHERE owner_type = 'partner' AND kind = p_kind AND partner_id = p_partner AND asset_id = p_asset
         AND user_id IS NULL AND campaign_id IS NULL;
    END IF;
  END IF;
  RETURN v;
END $$;
