-- points_post() does a whole posting in one round trip: claim the idempotency key, lock the member accounts
-- involved (in id order), consume lots soonest-expiring first, update member balances, append deltas for
-- deferred (system) accounts and create the credit lot. Refusals come back as a status (see below); errors are
-- raised with SQLSTATEs PM001..PM099 that points.services maps onto domain errors, and a raise rolls the whole
-- posting back.
--
-- p_reason / p_reason_en: what the member reads, in Chinese and in English (blank: the Chinese is shown to all).
-- p_reason_en comes last with a default, so callers written before it (other functions) still work.

CREATE OR REPLACE FUNCTION points_post(
  p_key text, p_asset text, p_debit bigint, p_credit bigint, p_amount bigint, p_kind text, p_reason text,
  p_campaign bigint, p_source_type integer, p_source_id text, p_actor bigint, p_reverses bigint,
  p_available_at timestamptz, p_expires_at timestamptz, p_now timestamptz, p_lot bigint, p_reason_en text DEFAULT ''
) RETURNS TABLE (transfer_id bigint, status text, debit_id bigint, credit_id bigint, detail bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
-- status: 'created' | 'replayed' (same key, same content: asset, accounts, amount, kind, reversed transfer and
-- campaign; reason, source and actor are descriptions, not compared) | 'conflict' (same key, other content;
-- detail = the existing transfer) | 'insufficient' (detail = spendable points) | 'account_not_found' | 'asset_mismatch' |
-- 'same_account'. Only 'created' leaves anything behind, and a refusal never aborts the caller's transaction.
DECLARE
  v_id bigint;
  v_old points_transfer%ROWTYPE;
  d points_account%ROWTYPE;
  c points_account%ROWTYPE;
  v_need bigint;
  v_take bigint;
  v_lots bigint[] := '{}';
  v_takes bigint[] := '{}';
  r record;
  i integer;
  v_taken boolean := false;  -- whether this call has already taken the amount from a member's balance
BEGIN
  IF p_amount IS NULL OR p_amount <= 0 THEN
    RAISE EXCEPTION 'amount must be a positive integer' USING ERRCODE = 'PM001';
  END IF;
  IF p_debit IS NULL OR p_credit IS NULL THEN
    RETURN QUERY SELECT NULL::bigint, 'account_not_found'::text, p_debit, p_credit, NULL::bigint;
    RETURN;
  END IF;
  IF p_debit = p_credit THEN
    RETURN QUERY SELECT NULL::bigint, 'same_account'::text, p_debit, p_credit, NULL::bigint;
    RETURN;
  END IF;

  SELECT * INTO d FROM points_account WHERE id = p_debit;
  SELECT * INTO c FROM points_account WHERE id = p_credit;
  IF d.id IS NULL OR c.id IS NULL THEN
    RETURN QUERY SELECT NULL::bigint, 'account_not_found'::text, p_debit, p_credit, NULL::bigint;
    RETURN;
  END IF;
  IF d.asset_id <> p_asset OR c.asset_id <> p_asset THEN
    RETURN QUERY SELECT NULL::bigint, 'asset_mismatch'::text, p_debit, p_credit, NULL::bigint;
    RETURN;
  END IF;

  -- Lock directly-balanced accounts, in id order when there are two. Deferred (system) accounts are never
  -- locked or updated here: that is what keeps them from becoming hot rows.
  IF NOT d.deferred AND NOT c.deferred THEN
    PERFORM 1 FROM points_account WHERE id IN (p_debit, p_credit) ORDER BY id FOR UPDATE;
  END IF;
  IF NOT d.deferred THEN
    -- Take the debit now: this UPDATE is also the row lock that serialises this member's postings.
    UPDATE points_account SET balance = balance - p_amount
     WHERE id = p_debit AND (NOT no_negative OR balance >= p_amount)
    RETURNING * INTO d;
    v_taken := FOUND;
    IF NOT v_taken THEN  -- a guarded account without enough balance (unless this is a replay)
      SELECT * INTO d FROM points_account WHERE id = p_debit;
      IF NOT EXISTS (SELECT 1 FROM points_transfer WHERE idempotency_key = p_key) THEN
        RETURN QUERY SELECT NULL::bigint, 'insufficient'::text, p_debit, p_credit,
          CASE WHEN d.tracks_lots THEN
            (SELECT coalesce(sum(l.remaining), 0)::bigint FROM points_lot l
              WHERE l.account_id = d.id AND l.remaining > 0 AND l.available_at <= p_now
                AND (l.expires_at IS NULL OR l.expires_at > p_now))
          ELSE d.balance END;
        RETURN;
      END IF;
    END IF;
  END IF;

  -- A replay of a posting that debits a member is found here, after the debit was taken (the lock), and gives it
  -- back. One that debits a deferred (system) account has taken nothing: the INSERT below finds it (ON CONFLICT),
  -- which saves every new posting of that kind (grants: check-ins, prizes, rewards) an index look-up.
  IF NOT d.deferred THEN
    SELECT * INTO v_old FROM points_transfer WHERE idempotency_key = p_key;
    IF FOUND THEN
      IF v_taken THEN  -- give back the debit taken above
        UPDATE points_account SET balance = balance + p_amount WHERE id = p_debit;
      END IF;
      IF v_old.debit_id = p_debit AND v_old.credit_id = p_credit AND v_old.amount = p_amount
         AND v_old.asset_id = p_asset AND v_old.kind = p_kind AND v_old.reverses_id IS NOT DISTINCT FROM p_reverses
         AND v_old.campaign_id IS NOT DISTINCT FROM p_campaign THEN
        RETURN QUERY SELECT v_old.id, 'replayed'::text, v_old.debit_id, v_old.credit_id, NULL::bigint;
      ELSE
        RETURN QUERY SELECT v_old.id, 'conflict'::text, v_old.debit_id, v_old.credit_id, v_old.id;
      END IF;
      RETURN;
    END IF;
  END IF;

  -- Plan the debit's lots, soonest-expiring first (a reversal of an earn takes back that earn's own lot
  -- first, even while it is still pending; the expiry job names the one expired lot it empties).
  IF NOT d.deferred AND d.tracks_lots THEN
    v_need := p_amount;
    FOR r IN
      SELECT l.id, l.remaining FROM points_lot l
       WHERE l.account_id = d.id AND l.remaining > 0
         AND CASE WHEN p_lot IS NOT NULL THEN l.id = p_lot
                  ELSE (l.available_at <= p_now OR (p_reverses IS NOT NULL AND l.transfer_id = p_reverses))
                       AND (l.expires_at IS NULL OR l.expires_at > p_now) END
       ORDER BY (p_reverses IS NOT NULL AND l.transfer_id = p_reverses) DESC, l.expires_at ASC NULLS LAST, l.id
    LOOP
      v_take := least(r.remaining, v_need);
      v_lots := v_lots || r.id;
      v_takes := v_takes || v_take;
      v_need := v_need - v_take;
      EXIT WHEN v_need = 0;
    END LOOP;
    IF v_need > 0 THEN
      UPDATE points_account SET balance = balance + p_amount WHERE id = p_debit;  -- give it back
      RETURN QUERY SELECT NULL::bigint, 'insufficient'::text, p_debit, p_credit, p_amount - v_need;
      RETURN;
    END IF;
  END IF;

  INSERT INTO points_transfer (idempotency_key, asset_id, debit_id, credit_id, amount, kind, reason, reason_en,
                               campaign_id, source_type_id, source_id, actor_id, reverses_id, created_at)
  VALUES (p_key, p_asset, p_debit, p_credit, p_amount, p_kind, coalesce(p_reason, ''), coalesce(p_reason_en, ''),
          p_campaign, p_source_type, coalesce(p_source_id, ''), p_actor, p_reverses, p_now)
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id INTO v_id;
  IF v_id IS NULL THEN  -- a concurrent posting with this key committed after our look-up: report it, undo ours
    IF v_taken THEN
      UPDATE points_account SET balance = balance + p_amount WHERE id = p_debit;
    END IF;
    SELECT * INTO v_old FROM points_transfer WHERE idempotency_key = p_key;
    RETURN QUERY SELECT v_old.id,
      CASE WHEN v_old.debit_id = p_debit AND v_old.credit_id = p_credit AND v_old.amount = p_amount
                AND v_old.asset_id = p_asset AND v_old.kind = p_kind
                AND v_old.reverses_id IS NOT DISTINCT FROM p_reverses
                AND v_old.campaign_id IS NOT DISTINCT FROM p_campaign
           THEN 'replayed' ELSE 'conflict' END, v_old.debit_id, v_old.credit_id, v_old.id;
    RETURN;
  END IF;

  -- Debit leg (a member's balance was already taken above).
  IF d.deferred THEN
    INSERT INTO points_accountdelta (account_id, amount, transfer_id) VALUES (d.id, -p_amount, v_id);
  ELSIF d.tracks_lots THEN
    FOR i IN 1 .. coalesce(array_length(v_lots, 1), 0) LOOP
      UPDATE points_lot SET remaining = remaining - v_takes[i] WHERE id = v_lots[i];
      INSERT INTO points_lotconsumption (lot_id, transfer_id, amount) VALUES (v_lots[i], v_id, v_takes[i]);
    END LOOP;
  END IF;

  -- Credit leg.
  IF c.deferred THEN
    INSERT INTO points_accountdelta (account_id, amount, transfer_id) VALUES (c.id, p_amount, v_id);
  ELSE
    UPDATE points_account SET balance = balance + p_amount WHERE id = c.id;
    IF c.tracks_lots THEN
      IF p_reverses IS NOT NULL AND EXISTS (SELECT 1 FROM points_lotconsumption lc WHERE lc.transfer_id = p_reverses)
      THEN
        -- Undoing a debit: give back exactly the consumed points, each with its original expiry.
        INSERT INTO points_lot (account_id, transfer_id, campaign_id, amount, remaining, available_at, expires_at,
                                created_at)
        SELECT c.id, v_id, l.campaign_id, sum(lc.amount), sum(lc.amount), p_now, l.expires_at, p_now
          FROM points_lotconsumption lc JOIN points_lot l ON l.id = lc.lot_id
         WHERE lc.transfer_id = p_reverses
         GROUP BY l.id, l.campaign_id, l.expires_at;
      ELSE
        INSERT INTO points_lot (account_id, transfer_id, campaign_id, amount, remaining, available_at, expires_at,
                                created_at)
        VALUES (c.id, v_id, p_campaign, p_amount, p_amount, greatest(coalesce(p_available_at, p_now), p_now),
                p_expires_at, p_now);
      END IF;
    END IF;
  END IF;

  RETURN QUERY SELECT v_id, 'created'::text, p_debit, p_credit, NULL::bigint;
END $$;
