-- tasks_checkin(): a member's daily check-in in one call, so the check-in API is one statement — one round trip, one
-- transaction, one commit (tasks.checkins.checkin_create wraps it).
--
-- It re-reads everything it enforces from the rows themselves, never from the application's configuration cache:
--   * the campaign: published, and in its official phase at p_now ([official_starts_at, followup_starts_at), the rule
--     of campaigns.models.Campaign.phase_at / campaigns.selectors.campaign_open_for_members);
--   * the campaign's check-in rule (its base points);
--   * one check-in per member and campaign-local day (p_now in the campaign's timezone): a check-in of the day already
--     made answers 'exists' at once; concurrent first check-ins all pass that look-up, but their points share one
--     ledger key (the first posts, the others wait on it and get its replay) and the UNIQUE constraint
--     checkin_once_per_day (INSERT … ON CONFLICT DO NOTHING) keeps one row: the others answer 'exists' with it and
--     write nothing.
-- The points are posted before the row is written, under the check-in's id taken from its sequence in advance, so
-- the row is written once, transfer included.
-- The streak continues yesterday's check-in (streak + 1, same streak_start) or starts at 1. The base points pass the
-- campaigns' value gate (campaign_grant, ledger key 'checkin:<campaign>:<member>:<day>', kind checkin; multiplier
-- cards and any budget apply there), and the check-in counts towards the campaign's `checkin` tasks
-- (tasks_progress_record, which pays auto-reward tasks through the same gate). Streak milestones are not paid here:
-- a Celery job does that (tasks.streaks), recorded here in the outbox (outbox_add(), ADR 0008) so it commits with the
-- check-in — only when the new streak reaches a milestone (tasks_milestone_reached; o_bonus says so): key 'tasks.streak:<campaign>:<member>:<day>' (tasks.checkins.streak_outbox_key builds the same),
-- job tasks.streak_rewards_grant(campaign, member); tasks.checkins publishes it after commit, the relay if that fails.
--
-- p_checkin_type / p_progress_type: content type ids of tasks.CheckIn / tasks.TaskProgress (the ledger's sources).
-- o_status: 'ok' (o_* = the new check-in, o_transfer its base points) | 'exists' (o_* = the day's check-in made
-- before) | 'not_found' (no such campaign, or unpublished) | 'not_active' (outside the official phase; o_phase says
-- which phase) | 'not_configured' (no check-in rule). Only 'ok' writes anything. A refused posting raises TK001
-- (MESSAGE: the ledger's status, DETAIL: its detail) and rolls back the whole check-in. o_bonus ('ok' only): the
-- streak job was recorded (publish it after commit).

CREATE OR REPLACE FUNCTION tasks_checkin(
  p_campaign bigint, p_user bigint, p_now timestamptz, p_checkin_type integer, p_progress_type integer
) RETURNS TABLE (o_status text, o_id bigint, o_date date, o_streak integer, o_streak_start date, o_points integer,
                 o_is_makeup boolean, o_transfer bigint, o_created_at timestamptz, o_phase text, o_bonus boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_campaign campaigns_campaign%ROWTYPE;
  v_base_points integer;
  v_milestones jsonb;
  v_cycle boolean;
  v_bonus boolean;
  v_today date;
  v_prev tasks_checkin%ROWTYPE;
  v_row tasks_checkin%ROWTYPE;
  v_post record;
  v_id bigint;
  v_new boolean := false;
BEGIN
  SELECT * INTO v_campaign FROM campaigns_campaign c WHERE c.id = p_campaign;
  IF NOT FOUND OR NOT v_campaign.is_published THEN
    RETURN QUERY SELECT 'not_found'::text, NULL::bigint, NULL::date, NULL::integer, NULL::date, NULL::integer,
                        NULL::boolean, NULL::bigint, NULL::timestamptz, NULL::text, NULL::boolean;
    RETURN;
  END IF;
  IF NOT (v_campaign.official_starts_at <= p_now AND p_now < v_campaign.followup_starts_at) THEN
    RETURN QUERY SELECT 'not_active'::text, NULL::bigint, NULL::date, NULL::integer, NULL::date, NULL::integer,
                        NULL::boolean, NULL::bigint, NULL::timestamptz,
                        CASE WHEN p_now < v_campaign.warmup_starts_at THEN 'upcoming'
                             WHEN p_now < v_campaign.official_starts_at THEN 'warmup'
                             WHEN p_now < v_campaign.ends_at THEN 'followup'
                             ELSE 'ended' END, NULL::boolean;
    RETURN;
  END IF;
  SELECT r.base_points, r.milestones, r.cycle INTO v_base_points, v_milestones, v_cycle
    FROM tasks_checkinrule r WHERE r.campaign_id = p_campaign;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'not_configured'::text, NULL::bigint, NULL::date, NULL::integer, NULL::date, NULL::integer,
                        NULL::boolean, NULL::bigint, NULL::timestamptz, NULL::text, NULL::boolean;
    RETURN;
  END IF;

  v_today := (p_now AT TIME ZONE v_campaign.timezone)::date;
  SELECT * INTO v_row FROM tasks_checkin c
   WHERE c.campaign_id = p_campaign AND c.user_id = p_user AND c.local_date = v_today;
  IF NOT FOUND THEN
    SELECT * INTO v_prev FROM tasks_checkin c
     WHERE c.campaign_id = p_campaign AND c.user_id = p_user AND c.local_date = v_today - 1;
    -- The points first, under the check-in's id taken in advance, so the row is written once, with its transfer.
    v_id := nextval(pg_get_serial_sequence('tasks_checkin', 'id'));
    SELECT * INTO v_post FROM campaign_grant(
      'checkin:' || p_campaign || ':' || p_user || ':' || to_char(v_today, 'YYYY-MM-DD'), p_campaign, p_user,
      v_base_points::bigint, 'checkin', '', p_checkin_type, v_id::text, points_expiry_at(p_campaign, 'PTS', p_now),
      p_now, '');
    IF v_post.status NOT IN ('created', 'replayed') THEN
      RAISE EXCEPTION '%', v_post.status USING ERRCODE = 'TK001', DETAIL = coalesce(v_post.detail::text, '');
    END IF;
    INSERT INTO tasks_checkin (id, campaign_id, user_id, local_date, streak, streak_start, is_makeup, points,
                               transfer_id, created_at)
    VALUES (v_id, p_campaign, p_user, v_today, coalesce(v_prev.streak + 1, 1), coalesce(v_prev.streak_start, v_today),
            false, v_base_points, v_post.transfer_id, p_now)
    ON CONFLICT (campaign_id, user_id, local_date) DO NOTHING
    RETURNING * INTO v_row;
    IF NOT FOUND THEN  -- a concurrent check-in of the day committed first (its points were this one's replay)
      SELECT * INTO v_row FROM tasks_checkin c
       WHERE c.campaign_id = p_campaign AND c.user_id = p_user AND c.local_date = v_today;
    ELSE
      v_new := true;
    END IF;
  END IF;
  IF NOT v_new THEN
    RETURN QUERY SELECT 'exists'::text, v_row.id, v_row.local_date, v_row.streak, v_row.streak_start, v_row.points,
                        v_row.is_makeup, v_row.transfer_id, v_row.created_at, NULL::text, NULL::boolean;
    RETURN;
  END IF;

  PERFORM * FROM tasks_progress_record(p_campaign, p_user, 'checkin', NULL, p_now, p_now, p_progress_type);
  PERFORM referrals_qualify(p_user, 'checkin', p_now, p_progress_type);  -- an invitee's first check-in (one probe)
  v_bonus := tasks_milestone_reached(v_milestones, v_cycle, v_row.streak);
  IF v_bonus THEN
    PERFORM outbox_add('tasks.streak:' || p_campaign || ':' || p_user || ':' || to_char(v_today, 'YYYY-MM-DD'),
                       'tasks.streak_rewards_grant', jsonb_build_array(p_campaign, p_user), p_now);
  END IF;
  RETURN QUERY SELECT 'ok'::text, v_row.id, v_row.local_date, v_row.streak, v_row.streak_start, v_row.points,
                      v_row.is_makeup, v_row.transfer_id, v_row.created_at, NULL::text, v_bonus;
END $$;
