-- campaign_charge(): THE way a member spends points inside a campaign — make-up check-ins, wheel spins,
-- redemptions. The spending side of the value gate (see campaign_grant.sql): campaigns.services.
-- campaign_points_charge wraps it and lottery_spin calls it.
--
-- Posts the member's wallet -> the campaign's spend account through points_post and returns its row. A member
-- without a wallet is not given one (points_member_account_find): points_post answers account_not_found, which
-- callers read as "no points".
CREATE OR REPLACE FUNCTION campaign_charge(
  p_key text, p_campaign bigint, p_user bigint, p_amount bigint, p_kind text, p_reason text,
  p_source_type integer, p_source_id text, p_now timestamptz, p_reason_en text DEFAULT ''
) RETURNS TABLE (transfer_id bigint, status text, debit_id bigint, credit_id bigint, detail bigint)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY SELECT * FROM points_post(
    p_key, 'PTS', points_member_account_find(p_user, 'PTS'),
    points_system_account('campaign', 'spend', p_campaign, 'PTS'), p_amount, p_kind, p_reason, p_campaign,
    p_source_type, p_source_id, NULL, NULL, NULL, NULL, p_now, NULL, p_reason_en);
END $$;
