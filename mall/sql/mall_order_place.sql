-- mall_order_place(): one mall order — one unit of one product for one member — in one call and one transaction
-- (mall.services.order_place wraps it). In order:
--   0. replay: the member's request key already made an order → 'replay' with that order, whatever happened since;
--   1. the product and its campaign read from their rows (never from the caller): listed, the campaign published and
--      in the product's sale phases, inside the product's own sale window → else MA001 not_available;
--   2. the delivery method: physical goods need 'shipping' or 'pickup' as the product allows; others none → MA006;
--   3. per-member limits, campaign-wide ('all') and per campaign-local day ('YYYY-MM-DD'): one counter row each,
--      raised by a conditional upsert, so parallel orders of one member cannot both pass → MA004 limit_reached
--      (DETAIL: 'member' | 'day', HINT: the limit);
--   4. stock: a guarded decrement (stock >= 1) on the product row → MA002 out_of_stock;
--   5. a code for code products: the pool's lowest free code, skip-locked, assigned under 'order:<user>:<key>' →
--      MA003 pool_empty (before any point moves);
--   6. the points through the campaigns' value gate: goods (physical) are held (campaign_hold; captured when shipped
--      or picked up), everything else charged (campaign_charge) → MA005 insufficient_points (DETAIL: spendable,
--      HINT: the price); any other ledger refusal → MA008 (MESSAGE: its status);
--   7. virtual items handed over through their owners: a points card via campaign_grant, a multiplier card via
--      campaign_multiplier_issue, a membership voucher as p_voucher;
--   8. the order row (fulfilled at once unless goods), a shipment for goods to ship (shipment_create, waiting for
--      the address the caller sets in the same transaction), an invitee's qualification (referrals_qualify), task
--      progress for 'redeem' tasks.
-- A raised error rolls back everything the call did. The price is the product's less the member's discount,
-- ceil(price × (100 − pct) / 100), at least 1 point: pct is the mall discount of the member's current level on the
-- active ladder (levels tables, read in this statement: docs/adr/0010-member-levels.md), or p_discount when a caller
-- passes a larger one (0-100; pages and the API pass 0). The order keeps the list price and the percent applied.
-- Returns the status ('ok' | 'replay'), the order's id, the member's spendable balance after the call, the order row
-- as JSON and its code (so the caller builds its answer without reading the order again).

CREATE OR REPLACE FUNCTION mall_order_place(
  p_product bigint, p_user bigint, p_key text, p_method text, p_discount integer, p_voucher text, p_pickup text,
  p_now timestamptz, p_order_type integer, p_progress_type integer
) RETURNS TABLE (o_status text, o_order bigint, o_spendable bigint, o_row json, o_code text)
LANGUAGE plpgsql AS $$
DECLARE
  v_product mall_product%ROWTYPE;
  v_campaign campaigns_campaign%ROWTYPE;
  v_order bigint;
  v_today date;
  v_price bigint;
  v_method text := '';
  v_code_id bigint;
  v_ledger_key text := 'order:' || p_user || ':' || p_key;
  v_post record;
  v_spend bigint;
  v_hold bigint;
  v_shipment bigint;
  v_goods boolean;
  v_fulfilled timestamptz;
  v_closes timestamptz;
  v_reason text;
  v_reason_en text;
  v_discount numeric;
BEGIN
  -- 0. A retry of an earlier order answers with it.
  SELECT o.id INTO v_order FROM mall_order o WHERE o.user_id = p_user AND o.request_key = p_key;
  IF FOUND THEN
    RETURN QUERY SELECT 'replay'::text, v_order,
      (SELECT b.spendable FROM points_balance(p_user, 'PTS', p_now, '0'::interval) b),
      (SELECT row_to_json(o) FROM mall_order o WHERE o.id = v_order),
      (SELECT c.code::text FROM mall_order o JOIN mall_code c ON c.id = o.code_id WHERE o.id = v_order);
    RETURN;
  END IF;

  -- 1. On sale now?
  SELECT * INTO v_product FROM mall_product p WHERE p.id = p_product;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such product: %', p_product USING ERRCODE = 'MA007';
  END IF;
  SELECT * INTO v_campaign FROM campaigns_campaign c WHERE c.id = v_product.campaign_id;
  v_closes := v_campaign.ends_at;
  IF v_product.sale_phases = 'official' THEN
    v_closes := v_campaign.followup_starts_at;
  END IF;
  IF NOT v_product.is_active OR NOT v_campaign.is_published
     OR p_now < v_campaign.official_starts_at OR p_now >= v_closes
     OR (v_product.sale_starts_at IS NOT NULL AND p_now < v_product.sale_starts_at)
     OR (v_product.sale_ends_at IS NOT NULL AND p_now >= v_product.sale_ends_at) THEN
    RAISE EXCEPTION 'product % is not on sale', p_product USING ERRCODE = 'MA001';
  END IF;
  v_today := (p_now AT TIME ZONE v_campaign.timezone)::date;

  -- 2. Delivery method.
  v_goods := v_product.delivery = 'physical';
  IF v_goods THEN
    v_method := coalesce(p_method, '');
    IF v_method = '' AND v_product.physical_methods <> 'both' THEN
      v_method := v_product.physical_methods;
    END IF;
    IF v_method NOT IN ('shipping', 'pickup')
       OR (v_product.physical_methods <> 'both' AND v_method <> v_product.physical_methods) THEN
      RAISE EXCEPTION 'product % does not offer %', p_product, v_method USING ERRCODE = 'MA006';
    END IF;
  ELSIF coalesce(p_method, '') <> '' THEN
    RAISE EXCEPTION 'product % is not goods', p_product USING ERRCODE = 'MA006';
  END IF;

  -- 3. Per-member limits (counters; the upsert's WHERE refuses a count past the limit and locks the row).
  IF v_product.limit_per_member IS NOT NULL THEN
    INSERT INTO mall_limitcounter AS l (product_id, user_id, "window", count)
    VALUES (p_product, p_user, 'all', 1)
    ON CONFLICT (product_id, user_id, "window") DO UPDATE SET count = l.count + 1
     WHERE l.count + 1 <= v_product.limit_per_member;
    IF NOT FOUND OR v_product.limit_per_member < 1 THEN
      RAISE EXCEPTION 'limit reached' USING ERRCODE = 'MA004', DETAIL = 'member', HINT = v_product.limit_per_member;
    END IF;
  END IF;
  IF v_product.limit_per_day IS NOT NULL THEN
    INSERT INTO mall_limitcounter AS l (product_id, user_id, "window", count)
    VALUES (p_product, p_user, to_char(v_today, 'YYYY-MM-DD'), 1)
    ON CONFLICT (product_id, user_id, "window") DO UPDATE SET count = l.count + 1
     WHERE l.count + 1 <= v_product.limit_per_day;
    IF NOT FOUND OR v_product.limit_per_day < 1 THEN
      RAISE EXCEPTION 'limit reached' USING ERRCODE = 'MA004', DETAIL = 'day', HINT = v_product.limit_per_day;
    END IF;
  END IF;

  -- 4. Stock.
  UPDATE mall_product p SET stock = p.stock - 1 WHERE p.id = p_product AND p.stock >= 1;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'out of stock' USING ERRCODE = 'MA002';
  END IF;

  -- 5. A code.
  IF v_product.delivery = 'code' THEN
    UPDATE mall_code c SET assigned_to_id = p_user, assigned_at = p_now, assignment_key = v_ledger_key
     WHERE c.id = (SELECT f.id FROM mall_code f WHERE f.pool_id = v_product.code_pool_id AND f.assigned_to_id IS NULL
                    ORDER BY f.id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING c.id INTO v_code_id;
    IF v_code_id IS NULL THEN
      RAISE EXCEPTION 'code pool % is empty', v_product.code_pool_id USING ERRCODE = 'MA003';
    END IF;
  END IF;

  -- 6. Points through the value gate.
  v_order := nextval(pg_get_serial_sequence('mall_order', 'id'));
  v_discount := greatest(coalesce(p_discount, 0), coalesce(
    (SELECT l.discount_percent FROM levels_memberlevel m
       JOIN levels_ladder d ON d.id = m.ladder_id AND d.active
       JOIN levels_level l ON l.id = m.level_id
      WHERE m.user_id = p_user), 0));
  v_discount := least(greatest(v_discount, 0), 100);
  v_price := greatest(1, ceil(v_product.points_price * (100 - v_discount) / 100.0));
  v_reason := '积分商城兑换：' || v_product.name;
  v_reason_en := 'Mall redemption: ' || coalesce(nullif(v_product.name_en, ''), v_product.name);
  IF v_goods THEN
    SELECT * INTO v_post FROM campaign_hold(v_ledger_key, v_product.campaign_id, p_user, v_price, v_reason,
                                            p_order_type, v_order::text, p_now, v_reason_en);
    v_hold := v_post.hold_id;
  ELSE
    SELECT * INTO v_post FROM campaign_charge(v_ledger_key, v_product.campaign_id, p_user, v_price, 'redeem',
                                              v_reason, p_order_type, v_order::text, p_now, v_reason_en);
    v_spend := v_post.transfer_id;
  END IF;
  IF v_post.status = 'insufficient' OR v_post.status = 'account_not_found' THEN
    RAISE EXCEPTION 'insufficient points' USING ERRCODE = 'MA005', DETAIL = coalesce(v_post.detail, 0), HINT = v_price;
  ELSIF v_post.status <> 'created' THEN
    RAISE EXCEPTION '%', v_post.status USING ERRCODE = 'MA008';
  END IF;

  -- 7. Virtual items.
  IF v_product.delivery = 'virtual' THEN
    IF v_product.virtual_kind = 'points_card' THEN
      SELECT * INTO v_post FROM campaign_grant(
        v_ledger_key || ':card', v_product.campaign_id, p_user, v_product.virtual_points, 'points_card',
        '积分卡：' || v_product.name, p_order_type, v_order::text,
        points_expiry_at(v_product.campaign_id, 'PTS', p_now), p_now,
        'Points card: ' || coalesce(nullif(v_product.name_en, ''), v_product.name));
      IF v_post.status <> 'created' THEN
        RAISE EXCEPTION '%', v_post.status USING ERRCODE = 'MA008';
      END IF;
    ELSIF v_product.virtual_kind = 'multiplier_card' THEN
      PERFORM campaign_multiplier_issue(v_product.campaign_id, p_user, v_product.multiplier_percent,
                                        v_product.multiplier_hours, v_ledger_key, p_now);
    END IF;
  END IF;

  -- 8. The order, its shipment, task progress.
  v_fulfilled := CASE WHEN v_goods THEN NULL ELSE p_now END;
  IF v_method = 'shipping' THEN
    v_shipment := shipment_create('mall.order', v_order, 'order:' || v_order, p_user, v_product.name,
                                  v_product.name_en, NULL, p_now);
  END IF;
  INSERT INTO mall_order (id, user_id, product_id, campaign_id, supplier_id, request_key, status, points, unit_cost_cny,
                          name, name_en, delivery, method, code_id, code_revealed_at, voucher_code, spend_transfer_id,
                          hold_id, refund_transfer_id, shipment_id, pickup_code, picked_up_at, picked_up_by_id,
                          local_date, created_at, fulfilled_at, cancelled_at, cancelled_by_id, cancel_reason,
                          list_points, discount_percent)
  VALUES (v_order, p_user, p_product, v_product.campaign_id, v_product.supplier_id, p_key,
          CASE WHEN v_goods THEN 'placed' ELSE 'fulfilled' END, v_price, v_product.unit_cost_cny,
          v_product.name, v_product.name_en, v_product.delivery, v_method, v_code_id, NULL,
          CASE WHEN v_product.virtual_kind = 'membership_voucher' THEN p_voucher ELSE '' END, v_spend,
          v_hold, NULL, v_shipment, CASE WHEN v_method = 'pickup' THEN p_pickup END, NULL, NULL,
          v_today, p_now, v_fulfilled, NULL, NULL, '', v_product.points_price, v_discount);
  PERFORM referrals_qualify(p_user, 'order', p_now, p_progress_type);  -- an invitee's first redemption (one probe)
  IF tasks_event_counted(v_product.campaign_id, 'redeem') THEN
    PERFORM * FROM tasks_progress_record(v_product.campaign_id, p_user, 'redeem', v_price, p_now, p_now,
                                         p_progress_type);
  END IF;
  RETURN QUERY SELECT 'ok'::text, v_order,
    (SELECT b.spendable FROM points_balance(p_user, 'PTS', p_now, '0'::interval) b),
    (SELECT row_to_json(o) FROM mall_order o WHERE o.id = v_order),
    (SELECT c.code::text FROM mall_code c WHERE c.id = v_code_id);
END $$;
