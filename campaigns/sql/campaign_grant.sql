-- campaign_grant(): THE way a campaign gives a member points — check-ins, streak bonuses, task rewards, wheel
-- prizes. The value gate: campaigns.services.campaign_points_grant (Python) is a thin wrapper around it and the
-- prize wheel's lottery_spin (SQL) calls it, so whatever applies to campaign earnings applies once, here:
-- multiplier cards today, budget caps next (ADR 0002, "One value gate").
--
-- Posts the campaign's issuance account -> the member's wallet through points_post and returns points_post's row
-- for that base transfer (status created | replayed | conflict | ...; a refusal is a status, never a raise).
-- p_reason / p_reason_en: what the member reads, in Chinese and English (points_post.sql).
--
-- Multiplier cards: for the boosted kinds — check-ins (incl. make-up days), streak bonuses and task rewards;
-- wheel prizes are won, not earned, and are not boosted — a member holding an active card in the campaign gets
-- the extra points as a second transfer `<key>:boost` (kind boost, reason "×2"), posted only when the base
-- transfer is new: a replay returns the original and never boosts again. Cards do not stack: the strongest
-- active card counts (then the one that ends first). A refused boost raises PM002 and rolls the grant back.
--
-- p_available_at: when the points become spendable (NULL: at once). Until then they are pending (a referral reward
-- on hold); a reversal still takes them back (points_post takes a reversed earn's own lot even while pending).
CREATE OR REPLACE FUNCTION campaign_grant(
  p_key text, p_campaign bigint, p_user bigint, p_amount bigint, p_kind text, p_reason text,
  p_source_type integer, p_source_id text, p_expires_at timestamptz, p_now timestamptz, p_reason_en text DEFAULT '',
  p_available_at timestamptz DEFAULT NULL
) RETURNS TABLE (transfer_id bigint, status text, debit_id bigint, credit_id bigint, detail bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_issuance bigint := points_system_account('campaign', 'issuance', p_campaign, 'PTS');
  v_wallet bigint := points_member_account(p_user, 'PTS');
  v_post record;
  v_boost record;
  v_percent integer;
  v_extra bigint;
  v_factor text;
BEGIN
  SELECT * INTO v_post FROM points_post(
    p_key, 'PTS', v_issuance, v_wallet, p_amount, p_kind, p_reason, p_campaign, p_source_type, p_source_id, NULL,
    NULL, p_available_at, p_expires_at, p_now, NULL, p_reason_en);
  IF v_post.status = 'created' AND p_kind IN ('checkin', 'streak_bonus', 'task_reward') THEN
    SELECT c.percent INTO v_percent FROM campaigns_multipliercard c
     WHERE c.user_id = p_user AND c.campaign_id = p_campaign AND c.starts_at <= p_now AND c.ends_at > p_now
     ORDER BY c.percent DESC, c.ends_at
     LIMIT 1;
    v_extra := p_amount * (coalesce(v_percent, 100) - 100) / 100;
    IF v_extra > 0 THEN
      v_factor := '×' || trim_scale(v_percent / 100.0);
      SELECT * INTO v_boost FROM points_post(
        p_key || ':boost', 'PTS', v_issuance, v_wallet, v_extra, 'boost', v_factor, p_campaign, p_source_type,
        p_source_id, NULL, NULL, p_available_at, p_expires_at, p_now, NULL, v_factor);
      IF v_boost.status NOT IN ('created', 'replayed') THEN
        RAISE EXCEPTION 'the multiplier bonus was refused: %', v_boost.status
          USING ERRCODE = 'PM002', DETAIL = coalesce(v_boost.detail::text, '');
      END IF;
    END IF;
  END IF;
  RETURN QUERY SELECT v_post.transfer_id, v_post.status, v_post.debit_id, v_post.credit_id, v_post.detail;
END $$;
