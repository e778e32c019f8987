-- A whole spin in one SQL call (lottery_spin), so the common spin is one round trip and one transaction.
--
-- The draw itself is the algorithm of lottery/fairness.py (lottery_roll.sql) on the member's player key (a random
-- stand-in for the member on this wheel, made with their counter row), then a walk over the odds table. The draw
-- keeps the key it used and gets a random public reference (column defaults, lottery.models.RandomHex).
--
-- Value passes the campaigns' value gate (campaigns/sql): the cost through campaign_charge, points prizes through
-- campaign_grant, multiplier cards through campaign_multiplier_issue. The caps and free spins are
-- lottery_spin_allowance (lottery_spin_allowance.sql), which the spin status page asks too.
--
-- p_reason / p_reason_en: the wheel's name in Chinese and English, the reason members read for the cost; a points
-- prize's reason is the prize's names, and its expiry the campaign's policy (points_expiry_at).
--
-- Errors: LS001 insufficient points (DETAIL: spendable points), LS002 unexpected ledger refusal (DETAIL: its
-- status), LS003 empty odds table. A raised error rolls back everything the call did.

CREATE OR REPLACE FUNCTION lottery_spin(
  p_wheel bigint, p_user bigint, p_key text, p_today date, p_now timestamptz, p_campaign bigint,
  p_ipad bytea, p_opad bytea, p_daily_cap integer, p_total_cap integer, p_free integer, p_cost integer,
  p_odds_version integer, p_claim_days integer, p_voucher text, p_reason text, p_reason_en text,
  p_draw_type integer, p_in_transaction boolean
) RETURNS TABLE (o_status text, o_draw bigint, o_spin integer, o_prize bigint, o_roll bigint, o_cost integer,
                 o_code text, o_spend bigint, o_prize_transfer bigint, o_hash text, o_table text,
                 o_reference text, o_player text)
LANGUAGE plpgsql AS $$
-- o_status: 'replay' (o_draw = the draw this key already made) | 'limit' (a cap refused the spin) | 'tasks'
-- (tasks of the campaign count spins and the caller is not in a transaction: nothing was done; call again inside
-- one and record the task progress there) | 'ok'.
DECLARE
  v_draw bigint;
  v_spin integer;
  v_today integer;
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
  SELECT d.id INTO v_draw FROM lottery_draw d
   WHERE d.wheel_id = p_wheel AND d.user_id = p_user AND d.request_key = p_key;
  IF FOUND THEN
    RETURN QUERY SELECT 'replay'::text, v_draw, NULL::integer, NULL::bigint, NULL::bigint, NULL::integer, NULL::text,
                        NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::text;
    RETURN;
  END IF;
  IF NOT p_in_transaction AND tasks_event_counted(p_campaign, 'spin') THEN
    RETURN QUERY SELECT 'tasks'::text, NULL::bigint, NULL::integer, NULL::bigint, NULL::bigint, NULL::integer, NULL::text,
                        NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::text;
    RETURN;
  END IF;

  -- 1. The member's counter row, locked (one member's spins serialise here, on no row other members touch);
  -- the caps and the cost are lottery_spin_allowance's answer for it; then the spin is counted and numbered.
  FOR attempt IN 1..2 LOOP
    SELECT * INTO v_player FROM lottery_wheelplayer w
     WHERE w.wheel_id = p_wheel AND w.user_id = p_user FOR NO KEY UPDATE;
    EXIT WHEN FOUND;
    INSERT INTO lottery_wheelplayer (wheel_id, user_id, spins_total, spins_today, day)
    VALUES (p_wheel, p_user, 0, 0, NULL) ON CONFLICT DO NOTHING;
  END LOOP;
  SELECT * INTO v_allow FROM lottery_spin_allowance(v_player.spins_total, v_player.spins_today, v_player.day,
                                                    p_today, p_daily_cap, p_total_cap, p_free, p_cost);
  IF NOT v_allow.allowed THEN
    RETURN QUERY SELECT 'limit'::text, NULL::bigint, NULL::integer, NULL::bigint, NULL::bigint, NULL::integer,
                        NULL::text, NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::text;
    RETURN;
  END IF;
  v_spin := v_player.spins_total + 1;
  v_today := v_allow.spins_today + 1;
  UPDATE lottery_wheelplayer SET spins_total = v_spin, spins_today = v_today, day = p_today WHERE id = v_player.id;

  -- 2. The cost, through the campaign's value gate (idempotent by the request key).
  v_cost := v_allow.next_cost;
  IF v_cost > 0 THEN
    SELECT * INTO v_post FROM campaign_charge(
      'spin:' || p_wheel || ':' || p_user || ':' || p_key, p_campaign, p_user, v_cost, 'spin', p_reason, NULL, '',
      p_now, p_reason_en);
    IF v_post.status IN ('insufficient', 'account_not_found') THEN
      RAISE EXCEPTION 'insufficient_points' USING ERRCODE = 'LS001', DETAIL = coalesce(v_post.detail, 0)::text;
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
      'prize:' || p_wheel || ':' || p_user || ':' || v_spin, p_campaign, p_user, v_prize.points_amount, 'prize',
      left(v_prize.name, 100), p_draw_type, v_draw::text, points_expiry_at(p_campaign, 'PTS', p_now), p_now,
      left(v_prize.name_en, 100));
    IF v_post.status NOT IN ('created', 'replayed') THEN
      RAISE EXCEPTION 'the prize points were refused' USING ERRCODE = 'LS002', DETAIL = v_post.status;
    END IF;
    v_prize_transfer := v_post.transfer_id;
  END IF;
  INSERT INTO lottery_draw (id, wheel_id, user_id, spin_number, request_key, prize_id, roll, "table", odds_hash,
                            odds_version, cost_points, spend_transfer_id, prize_transfer_id, code, local_date, created_at,
                            player_key)
  VALUES (v_draw, p_wheel, p_user, v_spin, p_key, v_prize.id, v_roll, v_table::jsonb, v_hash, p_odds_version, v_cost,
          v_spend, v_prize_transfer, v_code, p_today, p_now, v_player.player_key)
  RETURNING reference INTO v_reference;
  IF v_prize.kind = 'multiplier_card' THEN
    PERFORM campaign_multiplier_issue(p_campaign, p_user, v_prize.multiplier_percent, v_prize.multiplier_hours,
                                      'draw:' || v_draw, p_now);
  ELSIF v_prize.kind = 'physical' THEN
    -- A shipment waiting for the winner's address (shipments/sql/shipment_create.sql): owner kind
    -- lottery.models.PRIZE_SHIPMENT, owner id = the draw, key draw:<id>.
    PERFORM shipment_create('lottery.prize', v_draw, 'draw:' || v_draw, p_user, v_prize.name, v_prize.name_en,
                            p_now + make_interval(days => p_claim_days), p_now);
  END IF;
  RETURN QUERY SELECT 'ok'::text, v_draw, v_spin, v_prize.id, v_roll, v_cost, v_code, v_spend, v_prize_transfer,
                      v_hash, v_table, v_reference, v_player.player_key::text;
END $$;
