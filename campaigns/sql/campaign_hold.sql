-- campaign_hold(): the value gate's third door — a member's points set aside inside a campaign for something an
-- outside party must still hand over (mall goods: captured when they ship or are picked up, voided when the order
-- is cancelled). One call of the ledger's points_hold_place(); budget caps will apply here as in campaign_charge.

CREATE OR REPLACE FUNCTION campaign_hold(
  p_key text, p_campaign bigint, p_user bigint, p_amount bigint, p_reason text, p_source_type integer,
  p_source_id text, p_now timestamptz, p_reason_en text DEFAULT ''
) RETURNS TABLE (hold_id bigint, status text, detail bigint)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY SELECT * FROM points_hold_place(
    p_key, p_user, p_amount, p_campaign, p_reason, p_reason_en, p_source_type, p_source_id, p_now);
END $$;
