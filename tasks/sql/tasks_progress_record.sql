-- tasks_progress_record(): THE task progress engine — count one qualifying action towards every matching active task
-- of a campaign, in one call. tasks.engine.progress_record (partner events, the prize wheel's spins) wraps it and
-- tasks_checkin (tasks_checkin.sql) calls it inside the check-in's own statement.
--
-- The caller deduplicates the action itself (a check-in row, an ingested event id). A task counts the action when
-- it is active, of the event type, and `min_amount` (if any) is at most p_amount; a task whose prerequisite the
-- member has not completed yet does not count it. Progress rows are keyed per window (tasks.rules.window_key: 'all',
-- the campaign-local date 'YYYY-MM-DD', or the ISO week 'IYYY-"W"IW' of p_occurred_at) and, for repeatable tasks,
-- per completion cycle ('<window>:1', '<window>:2', … — tasks.rules.cycle_key). A window's first action makes its row
-- already counting it (INSERT … ON CONFLICT DO NOTHING: one write); any later one finds the row, locks it (FOR UPDATE),
-- so concurrent actions of one member serialise on it, and counts. Reaching
-- the target stamps completed_at; an auto-reward task is paid at once through the campaigns' value gate
-- (campaign_grant, ledger key 'task:<task>:<member>:<window key>', reason: the task's title), so a window's reward
-- can never be paid twice.
--
-- p_progress_type: the content type id of tasks.TaskProgress (the ledger's source of a reward).
-- Returns one row per task the action counted for: its window key, new count, whether that window/cycle is
-- completed and whether it is paid. A refused reward raises TK001 (MESSAGE: the ledger's status, DETAIL: its detail)
-- and rolls back everything the statement did.

CREATE OR REPLACE FUNCTION tasks_progress_record(
  p_campaign bigint, p_user bigint, p_type text, p_amount numeric, p_occurred_at timestamptz, p_now timestamptz,
  p_progress_type integer
) RETURNS TABLE (o_task bigint, o_window text, o_count integer, o_completed boolean, o_rewarded boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_task tasks_taskdefinition%ROWTYPE;
  v_local date;
  v_base text;
  v_cycle integer;
  v_key text;
  v_row tasks_taskprogress%ROWTYPE;
  v_post record;
  v_done boolean;  -- this action completed the window (or cycle)
BEGIN
  FOR v_task IN
    SELECT * FROM tasks_taskdefinition t
     WHERE t.campaign_id = p_campaign AND t.event_type = p_type AND t.is_active
       AND (t.min_amount IS NULL OR p_amount >= t.min_amount)
     ORDER BY t.sort_order, t.id
  LOOP
    IF v_task.prerequisite_id IS NOT NULL AND NOT EXISTS (
         SELECT 1 FROM tasks_taskprogress p
          WHERE p.task_id = v_task.prerequisite_id AND p.user_id = p_user AND p.completed_at IS NOT NULL) THEN
      CONTINUE;
    END IF;
    IF v_local IS NULL AND v_task."window" IN ('daily', 'weekly') THEN
      SELECT (p_occurred_at AT TIME ZONE c.timezone)::date INTO v_local FROM campaigns_campaign c WHERE c.id = p_campaign;
    END IF;
    v_base := CASE v_task."window"
                WHEN 'daily' THEN to_char(v_local, 'YYYY-MM-DD')
                WHEN 'weekly' THEN to_char(v_local, 'IYYY-"W"IW')
                ELSE 'all' END;
    -- The window's first action (a daily task's every first action of the day, a one-off task's only one): the row is
    -- made already counting it. Cycle rows ('<window>:1', …) only ever follow a completed base row, so there is no
    -- cycle to look up, no row to lock and no second write. A concurrent first action waits on the unique index,
    -- finds the row made, and takes the path below.
    v_key := v_base;
    INSERT INTO tasks_taskprogress (task_id, user_id, window_key, count, completed_at, claimed_at, reward_transfer_id,
                                    created_at, updated_at)
    VALUES (v_task.id, p_user, v_base, 1, CASE WHEN v_task.target_count <= 1 THEN p_now END, NULL, NULL, p_now, p_now)
    ON CONFLICT DO NOTHING
    RETURNING * INTO v_row;
    v_done := v_row.completed_at IS NOT NULL;
    IF NOT FOUND THEN
      SELECT coalesce(max(CASE WHEN p.window_key = v_base THEN 0
                               ELSE substr(p.window_key, length(v_base) + 2)::integer END), 0)
        INTO v_cycle
        FROM tasks_taskprogress p
       WHERE p.task_id = v_task.id AND p.user_id = p_user
         AND (p.window_key = v_base OR left(p.window_key, length(v_base) + 1) = v_base || ':');
      LOOP
        v_key := CASE WHEN v_cycle = 0 THEN v_base ELSE v_base || ':' || v_cycle END;
        INSERT INTO tasks_taskprogress (task_id, user_id, window_key, count, completed_at, claimed_at,
                                        reward_transfer_id, created_at, updated_at)
        VALUES (v_task.id, p_user, v_key, 0, NULL, NULL, NULL, p_now, p_now)
        ON CONFLICT DO NOTHING;
        SELECT * INTO v_row FROM tasks_taskprogress p
         WHERE p.task_id = v_task.id AND p.user_id = p_user AND p.window_key = v_key
           FOR UPDATE;
        EXIT WHEN v_row.completed_at IS NULL OR NOT v_task.repeatable;
        v_cycle := v_cycle + 1;  -- this cycle is done: a repeatable task counts towards the next one
      END LOOP;
      CONTINUE WHEN v_row.completed_at IS NOT NULL;  -- done for this window: the action counts no further

      v_row.count := v_row.count + 1;
      IF v_row.count >= v_task.target_count THEN
        v_row.completed_at := p_now;
        v_done := true;
      END IF;
      UPDATE tasks_taskprogress SET count = v_row.count, completed_at = v_row.completed_at, updated_at = p_now
       WHERE id = v_row.id;
    END IF;
    IF v_done THEN
      PERFORM referrals_qualify(p_user, 'task', p_now, p_progress_type);  -- an invitee's first completed task
    END IF;
    IF v_row.completed_at IS NOT NULL AND v_task.auto_reward THEN
      SELECT * INTO v_post FROM campaign_grant(
        'task:' || v_task.id || ':' || p_user || ':' || v_key, p_campaign, p_user, v_task.reward_points::bigint,
        'task_reward', left(v_task.title, 100), p_progress_type, v_row.id::text,
        points_expiry_at(p_campaign, 'PTS', p_now), p_now, left(v_task.title_en, 100));
      IF v_post.status NOT IN ('created', 'replayed') THEN
        RAISE EXCEPTION '%', v_post.status USING ERRCODE = 'TK001', DETAIL = coalesce(v_post.detail::text, '');
      END IF;
      UPDATE tasks_taskprogress SET claimed_at = p_now, reward_transfer_id = v_post.transfer_id
       WHERE id = v_row.id AND claimed_at IS NULL;
      v_row.claimed_at := p_now;
    END IF;
    RETURN QUERY SELECT v_task.id, v_key, v_row.count, v_row.completed_at IS NOT NULL, v_row.claimed_at IS NOT NULL;
  END LOOP;
END $$;
