-- shipment_create(): the one way a shipment is created, for owners that work in SQL (the prize wheel's
-- lottery_spin) and for shipments.services.shipment_create, which calls it. Idempotent: the same owner kind and
-- key return the shipment made the first time. A key reused for another owner id or member raises SH001 (the
-- caller has a bug; nothing is created).

CREATE OR REPLACE FUNCTION shipment_create(
  p_owner_kind text, p_owner_id bigint, p_key text, p_member bigint, p_item_name text, p_item_name_en text,
  p_claim_deadline timestamptz, p_now timestamptz
) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_id bigint;
  v_owner bigint;
  v_member bigint;
BEGIN
  INSERT INTO shipments_shipment (owner_kind, owner_id, idempotency_key, member_id, item_name, item_name_en,
                                  status, claim_deadline, recipient, phone, province, city, district, detail,
                                  postal_code, carrier, tracking_number, created_at)
  VALUES (p_owner_kind, p_owner_id, p_key, p_member, p_item_name, coalesce(p_item_name_en, ''), 'awaiting_address',
          p_claim_deadline, '', '', '', '', '', '', '', '', '', p_now)
  ON CONFLICT (owner_kind, idempotency_key) DO NOTHING
  RETURNING id INTO v_id;
  IF v_id IS NOT NULL THEN
    RETURN v_id;
  END IF;
  SELECT s.id, s.owner_id, s.member_id INTO v_id, v_owner, v_member
    FROM shipments_shipment s WHERE s.owner_kind = p_owner_kind AND s.idempotency_key = p_key;
  IF v_owner <> p_owner_id OR v_member <> p_member THEN
    RAISE EXCEPTION 'shipment key % of % belongs to owner % of member %', p_key, p_owner_kind, v_owner, v_member
      USING ERRCODE = 'SH001';
  END IF;
  RETURN v_id;
END $$;
