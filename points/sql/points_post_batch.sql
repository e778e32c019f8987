-- Many awards from deferred (system) accounts in one statement: the bulk-award path.
--
-- Bulk functions take arrays; a cached generic plan guesses 10 elements per array and picks nested loops that
-- go quadratic at 1,000 awards. Plan them with the real arrays every time: SET plan_cache_mode =
-- force_custom_plan.

CREATE OR REPLACE FUNCTION points_post_batch(
  p_keys text[], p_debits bigint[], p_credits bigint[], p_amounts bigint[], p_available timestamptz[],
  p_expires timestamptz[], p_asset text, p_kind text, p_reason text, p_campaign bigint, p_actor bigint,
  p_now timestamptz, p_reason_en text DEFAULT ''
) RETURNS TABLE (key text, transfer_id bigint, created boolean) LANGUAGE plpgsql
SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
  v_new bigint[];
  v_conflict text;
  v_missing bigint;
  v_mismatched bigint;
BEGIN
  IF EXISTS (SELECT 1 FROM unnest(p_amounts) a WHERE a IS NULL OR a <= 0) THEN
    RAISE EXCEPTION 'amount must be a positive integer' USING ERRCODE = 'PM001';
  END IF;
  SELECT count(*) FILTER (WHERE a.id IS NULL), count(*) FILTER (WHERE a.asset_id <> p_asset)
    INTO v_missing, v_mismatched
    FROM (SELECT DISTINCT x FROM unnest(p_debits || p_credits) AS x) ids LEFT JOIN points_account a ON a.id = ids.x;
  IF v_missing > 0 THEN
    RAISE EXCEPTION 'account not found' USING ERRCODE = 'PM003';
  END IF;
  IF v_mismatched > 0 THEN
    RAISE EXCEPTION 'asset mismatch' USING ERRCODE = 'PM004';
  END IF;
  IF EXISTS (SELECT 1 FROM (SELECT DISTINCT x FROM unnest(p_debits) AS x) ids JOIN points_account a ON a.id = ids.x
              WHERE NOT a.deferred) THEN
    RAISE EXCEPTION 'batch postings must debit system accounts' USING ERRCODE = 'PM007';
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(p_debits, p_credits) AS t(dr, cr) WHERE t.dr = t.cr) THEN
    RAISE EXCEPTION 'debit and credit are the same account' USING ERRCODE = 'PM006';
  END IF;

  PERFORM 1 FROM points_account WHERE id = ANY (p_credits) AND NOT deferred ORDER BY id FOR UPDATE;

  WITH input AS (
    SELECT * FROM unnest(p_keys, p_debits, p_credits, p_amounts, p_available, p_expires)
      AS t(k, dr, cr, amount, avail, expires)
  ), ins AS (
    INSERT INTO points_transfer (idempotency_key, asset_id, debit_id, credit_id, amount, kind, reason, reason_en,
                                 campaign_id, source_type_id, source_id, actor_id, reverses_id, created_at)
    SELECT k, p_asset, dr, cr, amount, p_kind, coalesce(p_reason, ''), coalesce(p_reason_en, ''), p_campaign, NULL,
           '', p_actor, NULL, p_now
      FROM input
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, idempotency_key, debit_id, credit_id, amount
  ), bal AS (
    UPDATE points_account a SET balance = a.balance + s.total
      FROM (SELECT credit_id, sum(amount) AS total FROM ins GROUP BY credit_id) s
     WHERE a.id = s.credit_id AND NOT a.deferred
    RETURNING a.id
  ), lots AS (
    INSERT INTO points_lot (account_id, transfer_id, campaign_id, amount, remaining, available_at, expires_at,
                            created_at)
    SELECT ins.credit_id, ins.id, p_campaign, ins.amount, ins.amount, greatest(coalesce(input.avail, p_now), p_now),
           input.expires, p_now
      FROM ins JOIN input ON input.k = ins.idempotency_key
      JOIN points_account a ON a.id = ins.credit_id AND a.tracks_lots AND NOT a.deferred
    RETURNING id
  ), deltas AS (
    INSERT INTO points_accountdelta (account_id, amount, transfer_id)
    SELECT debit_id, -sum(amount), min(id) FROM ins GROUP BY debit_id
    UNION ALL
    SELECT ins.credit_id, sum(ins.amount), min(ins.id) FROM ins JOIN points_account a ON a.id = ins.credit_id
     WHERE a.deferred GROUP BY ins.credit_id
    RETURNING id
  )
  SELECT array_agg(id) INTO v_new FROM ins;

  SELECT t.idempotency_key INTO v_conflict
    FROM unnest(p_keys, p_debits, p_credits, p_amounts) AS i(k, dr, cr, amount)
    JOIN points_transfer t ON t.idempotency_key = i.k
   WHERE t.debit_id <> i.dr OR t.credit_id <> i.cr OR t.amount <> i.amount OR t.asset_id <> p_asset
      OR t.kind <> p_kind OR t.campaign_id IS DISTINCT FROM p_campaign OR t.reverses_id IS NOT NULL
   LIMIT 1;
  IF v_conflict IS NOT NULL THEN
    RAISE EXCEPTION 'idempotency key reused with different content' USING ERRCODE = 'PM002', DETAIL = v_conflict;
  END IF;

  RETURN QUERY
    SELECT i.k, t.id, n.id IS NOT NULL
      FROM unnest(p_keys) WITH ORDINALITY AS i(k, ord)
      JOIN points_transfer t ON t.idempotency_key = i.k
      LEFT JOIN unnest(coalesce(v_new, '{}')) AS n(id) ON n.id = t.id
     ORDER BY i.ord;
END $$;
