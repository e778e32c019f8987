-- referrals_qualify(): the invitee did something (a check-in, a completed task, a mall order, a sign-in on a later
-- day). Called by the SQL of those actions in their own statement (tasks_checkin, tasks_progress_record,
-- mall_order_place) and by referrals.services for sign-ins. Costs one index probe when there is nothing to do.
--
-- If the invitee's invite is still 'registered' and p_action is its programme's qualifying action, the invite is
-- decided here, under its row lock, so five deliveries of the same event at once decide it once:
--   * fraud signals recorded at attribution (risk_reasons) → 'review' (no reward; the review queue decides);
--   * the inviter's daily or campaign cap already reached → 'review' with the reason 'daily_cap' / 'campaign_cap'
--     (the counters are locked first: parallel qualifications of one inviter cannot pass a cap together);
--   * else → referrals_reward(): rewards, counters, 'qualified'.
-- An inactive programme, or a campaign that has ended, leaves the invite as it is. 'later_login' counts only on a
-- campaign-local day after the invite's. Returns the new status, or '' when nothing changed.

CREATE OR REPLACE FUNCTION referrals_qualify(p_invitee bigint, p_action text, p_now timestamptz, p_progress_type integer)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  v referrals_invite%ROWTYPE;
  v_program referrals_program%ROWTYPE;
  v_campaign campaigns_campaign%ROWTYPE;
  v_day date;
  v_all integer;
  v_today integer;
  v_reasons jsonb;
BEGIN
  SELECT * INTO v FROM referrals_invite i
   WHERE i.invitee_id = p_invitee AND i.status = 'registered' AND i.qualifying_action = p_action
   FOR UPDATE;
  IF NOT FOUND THEN
    RETURN '';
  END IF;
  SELECT * INTO v_program FROM referrals_program p WHERE p.campaign_id = v.campaign_id;
  SELECT * INTO v_campaign FROM campaigns_campaign c WHERE c.id = v.campaign_id;
  v_day := (p_now AT TIME ZONE v_campaign.timezone)::date;
  IF NOT v_program.is_active OR p_now >= v_campaign.ends_at OR p_now < v.created_at
     OR (p_action = 'later_login' AND v_day <= v.local_date) THEN
    RETURN '';
  END IF;

  v_reasons := coalesce(v.risk_reasons, '[]'::jsonb);
  IF jsonb_array_length(v_reasons) = 0
     AND (v_program.inviter_daily_cap IS NOT NULL OR v_program.inviter_campaign_cap IS NOT NULL) THEN
    INSERT INTO referrals_invitercounter (campaign_id, inviter_id, "window", count)
    VALUES (v.campaign_id, v.inviter_id, 'all', 0), (v.campaign_id, v.inviter_id, to_char(v_day, 'YYYY-MM-DD'), 0)
    ON CONFLICT (campaign_id, inviter_id, "window") DO NOTHING;
    SELECT max(k.count) FILTER (WHERE k."window" = 'all'), max(k.count) FILTER (WHERE k."window" <> 'all')
      INTO v_all, v_today
      FROM (SELECT * FROM referrals_invitercounter k
             WHERE k.campaign_id = v.campaign_id AND k.inviter_id = v.inviter_id
               AND k."window" IN ('all', to_char(v_day, 'YYYY-MM-DD'))
             ORDER BY k."window" FOR UPDATE) k;
    IF v_program.inviter_campaign_cap IS NOT NULL AND v_all >= v_program.inviter_campaign_cap THEN
      v_reasons := v_reasons || '["campaign_cap"]'::jsonb;
    ELSIF v_program.inviter_daily_cap IS NOT NULL AND v_today >= v_program.inviter_daily_cap THEN
      v_reasons := v_reasons || '["daily_cap"]'::jsonb;
    END IF;
  END IF;

  IF jsonb_array_length(v_reasons) > 0 THEN
    UPDATE referrals_invite SET status = 'review', qualified_at = p_now, risk_reasons = v_reasons WHERE id = v.id;
    RETURN 'review';
  END IF;
  PERFORM referrals_reward(v.id, p_now, p_progress_type);
  RETURN 'qualified';
END $$;
