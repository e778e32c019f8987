-- referrals_reward(): THE one home of an invite's rewards, for an invite the caller has locked (referrals_qualify
-- for a clean invite, referrals.services.invite_review when an analyst approves one from the review queue). In one
-- statement: the inviter's reward and the invitee's newcomer gift through the value gate (campaign_grant; ledger
-- keys 'referral:<invite>:inviter' / ':invitee', so they are paid once whatever calls this), pending until the
-- programme's hold ends; the inviter's counters raised; the invite marked qualified; 'invite_qualified' task
-- progress for the inviter; the leaderboard job recorded in the outbox (referrals.leaderboard_sync).
-- A refused reward raises RF001 (MESSAGE: the ledger's status) and rolls back everything the statement did.

CREATE OR REPLACE FUNCTION referrals_reward(p_invite bigint, p_now timestamptz, p_progress_type integer)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v referrals_invite%ROWTYPE;
  v_program referrals_program%ROWTYPE;
  v_campaign campaigns_campaign%ROWTYPE;
  v_type integer;
  v_available timestamptz;
  v_post record;
  v_inviter_transfer bigint;
  v_invitee_transfer bigint;
  v_day text;
BEGIN
  SELECT * INTO v FROM referrals_invite i WHERE i.id = p_invite;
  SELECT * INTO v_program FROM referrals_program p WHERE p.campaign_id = v.campaign_id;
  SELECT * INTO v_campaign FROM campaigns_campaign c WHERE c.id = v.campaign_id;
  SELECT ct.id INTO v_type FROM django_content_type ct WHERE ct.app_label = 'referrals' AND ct.model = 'invite';
  v_available := CASE WHEN v_program.hold_days > 0 THEN p_now + make_interval(days => v_program.hold_days) END;
  v_day := to_char((p_now AT TIME ZONE v_campaign.timezone)::date, 'YYYY-MM-DD');

  IF v_program.inviter_points > 0 THEN
    SELECT * INTO v_post FROM campaign_grant(
      'referral:' || v.id || ':inviter', v.campaign_id, v.inviter_id, v_program.inviter_points, 'referral_reward',
      '邀请好友奖励', v_type, v.id::text, points_expiry_at(v.campaign_id, 'PTS', p_now), p_now, 'Invite reward',
      v_available);
    IF v_post.status NOT IN ('created', 'replayed') THEN
      RAISE EXCEPTION '%', v_post.status USING ERRCODE = 'RF001';
    END IF;
    v_inviter_transfer := v_post.transfer_id;
  END IF;
  IF v_program.invitee_points > 0 THEN
    SELECT * INTO v_post FROM campaign_grant(
      'referral:' || v.id || ':invitee', v.campaign_id, v.invitee_id, v_program.invitee_points, 'newcomer_gift',
      '新人礼', v_type, v.id::text, points_expiry_at(v.campaign_id, 'PTS', p_now), p_now, 'Newcomer gift',
      v_available);
    IF v_post.status NOT IN ('created', 'replayed') THEN
      RAISE EXCEPTION '%', v_post.status USING ERRCODE = 'RF001';
    END IF;
    v_invitee_transfer := v_post.transfer_id;
  END IF;

  INSERT INTO referrals_invitercounter AS k (campaign_id, inviter_id, "window", count)
  VALUES (v.campaign_id, v.inviter_id, 'all', 1), (v.campaign_id, v.inviter_id, v_day, 1)
  ON CONFLICT (campaign_id, inviter_id, "window") DO UPDATE SET count = k.count + 1;

  UPDATE referrals_invite SET status = 'qualified', qualified_at = coalesce(qualified_at, p_now), rewarded_at = p_now,
         hold_until = v_available, inviter_transfer_id = v_inviter_transfer, invitee_transfer_id = v_invitee_transfer
   WHERE id = v.id;

  IF tasks_event_counted(v.campaign_id, 'invite_qualified') THEN
    PERFORM * FROM tasks_progress_record(v.campaign_id, v.inviter_id, 'invite_qualified', NULL, p_now, p_now,
                                         p_progress_type);
  END IF;
  PERFORM outbox_add('referrals.leaderboard:' || v.id || ':qualified', 'referrals.leaderboard_sync',
                     jsonb_build_array(v.campaign_id, v.inviter_id), p_now);
END $$;
