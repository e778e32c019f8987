-- A whole spin in one SQL call (lottery_spin), so the common spin is one round trip and one transaction, and its
-- answer carries everything the caller shows: the draw and the member's status for the next spin.
--
-- The caller passes only what cannot go stale: the wheel and the member, the request key, the time, the HMAC pads of
-- the wheel's server seed (fixed when the wheel is made), a fresh voucher code and the draw's content type. What the
-- spin enforces is read here from the rows, never trusted from a cache: the campaign's official phase
-- (campaigns_campaign: published and official_starts_at <= p_now < followup_starts_at, the rule of
-- campaigns.selectors.campaign_open_for_members), its local date (its timezone), and the wheel's caps, free spins,
-- cost, odds version, claim days and names (lottery_wheel).
--
-- The draw itself is the algorithm of lottery/fairness.py (lottery_roll.sql) on the member's player key (a random
-- stand-in for the member on this wheel, made with their counter row), then a walk over the odds table. The draw
-- keeps the key it used and gets a random public reference (column defaults, lottery.models.RandomHex).
--
-- Value passes the campaigns' value gate (campaigns/sql): the cost through campaign_charge, points prizes through
-- campaign_grant, multiplier cards through campaign_multiplier_issue. The caps and free spins are
-- lottery_spin_allowance (lottery_spin_allowance.sql), which lottery_spin_status (the status pages and the API show)
-- asks too. The cost's reason is the wheel's names; a points prize's reason is the prize's names, and its expiry the
-- campaign's policy (points_expiry_at).
--
-- Errors: LS001 insufficient points (DETAIL: spendable points, HINT: the cost), LS002 unexpected ledger refusal
-- (DETAIL: its status), LS003 empty odds table, LS004 no such wheel. A raised error rolls back everything the call
-- did.

CREATE OR REPLACE FUNCTION lottery_spin(
  p_wheel bigint, p_user bigint, p_key text, p_now timestamptz, p_ipad bytea, p_opad bytea, p_voucher text,
  p_draw_type integer, p_in_transaction boolean
) RETURNS TABLE (o_status text, o_draw bigint, o_spin integer, o_prize bigint, o_roll bigint, o_cost integer,
                 o_code text, o_spend bigint, o_prize_transfer bigint, o_hash text, o_table text,
                 o_reference text, o_player text, o_odds_version integer, o_local_date date, o_created_at timestamptz,
                 o_tasks boolean, o_daily_cap integer, o_total_cap integer,
                 m_spins_today integer, m_spins_total integer, m_free_left integer, m_left_today integer,
                 m_left_total integer, m_next_cost integer, m_can_spin boolean, m_spendable bigint)
LANGUAGE plpgsql AS $$
-- o_status: 'replay' (this key already spun: the o_ columns describe that draw) | 'closed' (outside the campaign's
-- official phase: nothing was done) | 'tasks' (tasks of the campaign count spins and the caller is not in a
-- transaction: nothing was done; call again inside one and record the task progress there) | 'limit' (a cap
-- refused the spin; o_daily_cap and o_total_cap say which caps apply) | 'ok' (the o_ columns describe the new draw).
-- o_tasks: tasks of the campaign count spins (the caller records their progress in the same transaction).
-- m_*: after 'ok' and 'replay', the member's status for the next spin (lottery_spin_status) and spendable balance
-- (points_balance), as of the end of this call.
DECLARE
  v_wheel lottery_wheel%ROWTYPE;
  v_campaign campaigns_campaign%ROWTYPE;
  v_old lottery_draw%ROWTYPE;
  v_today date;
  v_draw bigint;
  v_spin integer;
  v_count_today integer;
  v_cost integer;
  v_spend bigint;
  v_prize_transfer bigint;
  v_post record;
  v_ids bigint[];
  v_weights bigint[];
  v_total bigint;
  v_roll bigint;
  v_upper bigint;
  v_idx integer;
  v_prize lottery_prize%ROWTYPE;
  v_code text := '';
  v_table text;
  v_hash text;
  v_reference text;
  v_player lottery_wheelplayer%ROWTYPE;
  v_allow record;
BEGIN
  SELECT * INTO v_wheel FROM lottery_wheel w WHERE w.id = p_wheel;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such wheel: %', p_wheel USING ERRCODE = 'LS004';
  END IF;
  o_daily_cap := v_wheel.daily_cap;
  o_total_cap := v_wheel.total_cap;
  o_tasks := false;

  -- 0. A retry of an earlier spin answers with that draw, whatever the phase is now.
  SELECT * INTO v_old FROM lottery_draw d
   WHERE d.wheel_id = p_wheel AND d.user_id = p_user AND d.request_key = p_key;
  IF FOUND THEN
    o_status := 'replay';
    o_draw := v_old.id;
    o_spin := v_old.spin_number;
    o_prize := v_old.prize_id;
    o_roll := v_old.roll;
    o_cost := v_old.cost_points;
    o_code := v_old.code;
    o_spend := v_old.spend_transfer_id;
    o_prize_transfer := v_old.prize_transfer_id;
    o_hash := v_old.odds_hash;
    o_table := v_old."table"::text;
    o_reference := v_old.reference;
    o_player := v_old.player_key;
    o_odds_version := v_old.odds_version;
    o_local_date := v_old.local_date;
    o_created_at := v_old.created_at;
  ELSE
    SELECT * INTO v_campaign FROM campaigns_campaign c WHERE c.id = v_wheel.campaign_id;
    IF NOT (v_campaign.is_published AND v_campaign.official_starts_at <= p_now
            AND p_now < v_campaign.followup_starts_at) THEN
      o_status := 'closed';
      RETURN NEXT;
      RETURN;
    END IF;
    o_tasks := tasks_event_counted(v_wheel.campaign_id, 'spin');
    IF o_tasks AND NOT p_in_transaction THEN
      o_status := 'tasks';
      RETURN NEXT;
      RETURN;
    END IF;
    v_today := (p_now AT TIME ZONE v_campaign.timezone)::date;

    -- 1. The member's counter row, locked (one member's spins serialise here, on no row other members touch);
    -- the caps and the cost are lottery_spin_allowance's answer for it; then the spin is counted and numbered.
    FOR attempt IN 1..2 LOOP
      SELECT * INTO v_player FROM lottery_wheelplayer w
       WHERE w.wheel_id = p_wheel AND w.user_id = p_user FOR NO KEY UPDATE;
      EXIT WHEN FOUND;
      INSERT INTO lottery_wheelplayer (wheel_id, user_id, spins_total, spins_today, day)
      VALUES (p_wheel, p_user, 0, 0, NULL) ON CONFLICT DO NOTHING;
    END LOOP;
    SELECT * INTO v_allow FROM lottery_spin_allowance(
      v_player.spins_total, v_player.spins_today, v_player.day, v_today, v_wheel.daily_cap, v_wheel.total_cap,
      v_wheel.free_spins_per_day, v_wheel.cost_points);
    IF NOT v_allow.allowed THEN
      o_status := 'limit';
      RETURN NEXT;
      RETURN;
    END IF;
    v_spin := v_player.spins_total + 1;
    v_count_today := v_allow.spins_today + 1;
    UPDATE lottery_wheelplayer SET spins_total = v_spin, spins_today = v_count_today, day = v_today
     WHERE id = v_player.id;

    -- 2. The cost, through the campaign's value gate (idempotent by the request key).
    v_cost := v_allow.next_cost;
    IF v_cost > 0 THEN
      SELECT * INTO v_post FROM campaign_charge(
        'spin:' || p_wheel || ':' || p_user || ':' || p_key, v_wheel.campaign_id, p_user, v_cost, 'spin',
        left(v_wheel.name, 100), NULL, '', p_now, left(v_wheel.name_en, 100));
      IF v_post.status IN ('insufficient', 'account_not_found') THEN
        RAISE EXCEPTION 'insufficient_points' USING ERRCODE = 'LS001', DETAIL = coalesce(v_post.detail, 0)::text,
                                                     HINT = v_cost::text;
      ELSIF v_post.status NOT IN ('created', 'replayed') THEN
        RAISE EXCEPTION 'the spin cost was refused' USING ERRCODE = 'LS002', DETAIL = v_post.status;
      END IF;
      v_spend := v_post.transfer_id;
    END IF;

    -- 3. The odds table: slots in stock and under the member's per-prize cap, in wheel order.
    SELECT array_agg(x.id ORDER BY x.sort_order, x.id), array_agg(x.weight::bigint ORDER BY x.sort_order, x.id)
      INTO v_ids, v_weights
      FROM lottery_prize x
     WHERE x.wheel_id = p_wheel
       AND (x.stock_remaining IS NULL OR x.stock_remaining > 0)
       AND (x.per_member_cap IS NULL OR x.per_member_cap > (
             SELECT count(*) FROM lottery_draw d WHERE d.wheel_id = p_wheel AND d.user_id = p_user AND d.prize_id = x.id));

    -- 4. Draw, then take the unit; a slot sold out under us (or a coupon pool run dry) drops out: redraw.
    LOOP
      v_total := 0;
      FOR i IN 1..coalesce(array_length(v_ids, 1), 0) LOOP
        v_total := v_total + v_weights[i];
      END LOOP;
      v_roll := lottery_roll(p_ipad, p_opad, v_player.player_key, v_spin, v_total);
      v_upper := 0;
      FOR i IN 1..array_length(v_ids, 1) LOOP
        v_upper := v_upper + v_weights[i];
        IF v_roll < v_upper THEN
          v_idx := i;
          EXIT;
        END IF;
      END LOOP;
      SELECT * INTO v_prize FROM lottery_prize WHERE id = v_ids[v_idx];
      EXIT WHEN v_prize.stock_total IS NULL;
      UPDATE lottery_prize SET stock_remaining = stock_remaining - 1 WHERE id = v_prize.id AND stock_remaining > 0;
      IF FOUND THEN
        IF v_prize.kind = 'membership_voucher' THEN
          v_code := p_voucher;
        END IF;
        EXIT WHEN v_prize.kind <> 'coupon';
        UPDATE mall_code c SET assigned_to_id = p_user, assigned_at = p_now,
                               assignment_key = 'draw:' || p_wheel || ':' || p_user || ':' || v_spin
         WHERE c.id = (SELECT f.id FROM mall_code f WHERE f.pool_id = v_prize.code_pool_id AND f.assigned_to_id IS NULL
                        ORDER BY f.id FOR UPDATE SKIP LOCKED LIMIT 1)
           AND c.assigned_to_id IS NULL
        RETURNING c.code INTO v_code;
        EXIT WHEN FOUND;
        UPDATE lottery_prize SET stock_remaining = stock_remaining + 1 WHERE id = v_prize.id;
        RAISE WARNING 'code pool % of prize % is empty while the prize has stock', v_prize.code_pool_id, v_prize.id;
      END IF;
      v_ids := v_ids[1:v_idx - 1] || v_ids[v_idx + 1:];
      v_weights := v_weights[1:v_idx - 1] || v_weights[v_idx + 1:];
    END LOOP;
    SELECT '[' || string_agg('[' || v_ids[i] || ',' || v_weights[i] || ']', ',' ORDER BY i) || ']'
      INTO v_table FROM generate_subscripts(v_ids, 1) AS i;
    v_hash := encode(sha256(convert_to(v_table, 'UTF8')), 'hex');

    -- 5. Record the draw and hand the prize over.
    v_draw := nextval(pg_get_serial_sequence('lottery_draw', 'id'));
    IF v_prize.kind = 'points' THEN
      SELECT * INTO v_post FROM campaign_grant(
        'prize:' || p_wheel || ':' || p_user || ':' || v_spin, v_wheel.campaign_id, p_user, v_prize.points_amount,
        'prize', left(v_prize.name, 100), p_draw_type, v_draw::text,
        points_expiry_at(v_wheel.campaign_id, 'PTS', p_now), p_now, left(v_prize.name_en, 100));
      IF v_post.status NOT IN ('created', 'replayed') THEN
        RAISE EXCEPTION 'the prize points were refused' USING ERRCODE = 'LS002', DETAIL = v_post.status;
      END IF;
      v_prize_transfer := v_post.transfer_id;
    END IF;
    INSERT INTO lottery_draw (id, wheel_id, user_id, spin_number, request_key, prize_id, roll, "table", odds_hash,
                              odds_version, cost_points, spend_transfer_id, prize_transfer_id, code, local_date,
                              created_at, player_key)
    VALUES (v_draw, p_wheel, p_user, v_spin, p_key, v_prize.id, v_roll, v_table::jsonb, v_hash, v_wheel.odds_version,
            v_cost, v_spend, v_prize_transfer, v_code, v_today, p_now, v_player.player_key)
    RETURNING reference INTO v_reference;
    IF v_prize.kind = 'multiplier_card' THEN
      PERFORM campaign_multiplier_issue(v_wheel.campaign_id, p_user, v_prize.multiplier_percent,
                                        v_prize.multiplier_hours, 'draw:' || v_draw, p_now);
    ELSIF v_prize.kind = 'physical' THEN
      -- A shipment waiting for the winner's address (shipments/sql/shipment_create.sql): owner kind
      -- lottery.models.PRIZE_SHIPMENT, owner id = the draw, key draw:<id>.
      PERFORM shipment_create('lottery.prize', v_draw, 'draw:' || v_draw, p_user, v_prize.name, v_prize.name_en,
                              p_now + make_interval(days => v_wheel.claim_days), p_now);
    END IF;
    o_status := 'ok';
    o_draw := v_draw;
    o_spin := v_spin;
    o_prize := v_prize.id;
    o_roll := v_roll;
    o_cost := v_cost;
    o_code := v_code;
    o_spend := v_spend;
    o_prize_transfer := v_prize_transfer;
    o_hash := v_hash;
    o_table := v_table;
    o_reference := v_reference;
    o_player := v_player.player_key;
    o_odds_version := v_wheel.odds_version;
    o_local_date := v_today;
    o_created_at := p_now;
  END IF;

  -- 6. What the member sees next: their status for the next spin and their spendable balance (only `spendable`
  -- of points_balance is read, so its "expiring soon" window does not matter here). After a new spin the counters
  -- are the ones this call just wrote under the member's row lock, so the rule is applied to them directly (what
  -- lottery_spin_status would read back); a replay reads the current status.
  IF o_status = 'ok' THEN
    SELECT s.spins_today, s.spins_total, s.free_left, s.left_today, s.left_total, s.next_cost, s.allowed
      INTO m_spins_today, m_spins_total, m_free_left, m_left_today, m_left_total, m_next_cost, m_can_spin
      FROM lottery_spin_allowance(v_spin, v_count_today, v_today, v_today, v_wheel.daily_cap, v_wheel.total_cap,
                                  v_wheel.free_spins_per_day, v_wheel.cost_points) s;
  ELSE
    SELECT s.spins_today, s.spins_total, s.free_left, s.left_today, s.left_total, s.next_cost, s.allowed
      INTO m_spins_today, m_spins_total, m_free_left, m_left_today, m_left_total, m_next_cost, m_can_spin
      FROM lottery_spin_status(p_wheel, p_user, p_now) s;
  END IF;
  SELECT b.spendable INTO m_spendable FROM points_balance(p_user, 'PTS', p_now, interval '0') b;
  RETURN NEXT;
END $$;
