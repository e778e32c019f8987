-- points_hold_place(): set a member's points aside in one call, for SQL callers (the value gate's campaign_hold,
-- which the mall's orders of goods call). The same as points.services.hold_place: the points move from the wallet to
-- the holds account under the ledger key 'hold:<key>' and a points_hold row records them; capture or void it later
-- (points.services.hold_capture / hold_void). Idempotent by key: the same key and amount return the first hold.
-- status: 'created' | 'replayed' | 'insufficient' (detail = spendable points) | 'conflict' (the key was used
-- for another hold) | the ledger's other refusals. Only 'created' leaves anything behind.

CREATE OR REPLACE FUNCTION points_hold_place(
  p_key text, p_user bigint, p_amount bigint, p_campaign bigint, p_reason text, p_reason_en text,
  p_source_type integer, p_source_id text, p_now timestamptz
) RETURNS TABLE (hold_id bigint, status text, detail bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_post record;
  v_hold points_hold%ROWTYPE;
BEGIN
  SELECT * INTO v_post FROM points_post(
    'hold:' || p_key, 'PTS', points_member_account_find(p_user, 'PTS'),
    points_system_account('system', 'holds', NULL, 'PTS'), p_amount, 'hold', p_reason, p_campaign,
    p_source_type, p_source_id, NULL, NULL, NULL, NULL, p_now, NULL, coalesce(p_reason_en, ''));
  IF v_post.status = 'created' THEN
    INSERT INTO points_hold (key, account_id, amount, state, campaign_id, place_transfer_id, settle_transfer_id,
                             reason, reason_en, created_at, settled_at)
    VALUES (p_key, v_post.debit_id, p_amount, 'pending', p_campaign, v_post.transfer_id, NULL, coalesce(p_reason, ''),
            coalesce(p_reason_en, ''), p_now, NULL)
    RETURNING * INTO v_hold;
    RETURN QUERY SELECT v_hold.id, 'created'::text, NULL::bigint;
  ELSIF v_post.status = 'replayed' THEN
    SELECT * INTO v_hold FROM points_hold h WHERE h.key = p_key;
    IF v_hold.id IS NULL OR v_hold.amount <> p_amount OR v_hold.place_transfer_id <> v_post.transfer_id THEN
      RETURN QUERY SELECT NULL::bigint, 'conflict'::text, v_post.transfer_id;
    ELSE
      RETURN QUERY SELECT v_hold.id, 'replayed'::text, NULL::bigint;
    END IF;
  ELSE
    RETURN QUERY SELECT NULL::bigint, v_post.status, v_post.detail;
  END IF;
END $$;
