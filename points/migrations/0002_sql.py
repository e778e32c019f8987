"""The ledger's rules that live in Postgres: immutability triggers and the posting functions.

points_post() does a whole posting in one round trip: claim the idempotency key, lock the member accounts
involved (in id order), consume lots soonest-expiring first, update member balances, append deltas for
deferred (system) accounts and create the credit lot. Errors are raised with SQLSTATEs PM001..PM099 that
points.services maps onto domain errors; the raise rolls the whole posting back.
"""

from django.db import migrations

SQL = r"""
CREATE OR REPLACE FUNCTION points_forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger rows are immutable: % on % refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'PM090';
END $$;

CREATE TRIGGER points_transfer_immutable BEFORE UPDATE OR DELETE ON points_transfer
  FOR EACH ROW EXECUTE FUNCTION points_forbid_change();
CREATE TRIGGER points_consumption_immutable BEFORE UPDATE OR DELETE ON points_lotconsumption
  FOR EACH ROW EXECUTE FUNCTION points_forbid_change();
CREATE TRIGGER points_lot_no_delete BEFORE DELETE ON points_lot
  FOR EACH ROW EXECUTE FUNCTION points_forbid_change();
-- Room on each page for HOT updates of balances (no index entries, less WAL per posting).
ALTER TABLE points_account SET (fillfactor = 80);

CREATE TRIGGER points_account_no_delete BEFORE DELETE ON points_account
  FOR EACH ROW EXECUTE FUNCTION points_forbid_change();

CREATE OR REPLACE FUNCTION points_lot_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.account_id <> OLD.account_id OR NEW.transfer_id <> OLD.transfer_id OR NEW.amount <> OLD.amount
     OR NEW.available_at <> OLD.available_at OR NEW.expires_at IS DISTINCT FROM OLD.expires_at
     OR NEW.campaign_id IS DISTINCT FROM OLD.campaign_id THEN
    RAISE EXCEPTION 'only lot.remaining may change' USING ERRCODE = 'PM090';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER points_lot_guard BEFORE UPDATE ON points_lot FOR EACH ROW EXECUTE FUNCTION points_lot_guard();

-- Get or create a member's wallet for an asset.
CREATE OR REPLACE FUNCTION points_member_account(p_user bigint, p_asset text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
  SELECT id INTO v FROM points_account
   WHERE owner_type = 'member' AND kind = 'wallet' AND user_id = p_user AND asset_id = p_asset
     AND campaign_id IS NULL AND partner_id IS NULL;
  IF v IS NULL THEN
    INSERT INTO points_account (asset_id, owner_type, kind, user_id, campaign_id, partner_id, balance, deferred,
                                no_negative, tracks_lots, created_at)
    VALUES (p_asset, 'member', 'wallet', p_user, NULL, NULL, 0, false, true, p_asset = 'PTS', now())
    ON CONFLICT DO NOTHING RETURNING id INTO v;
    IF v IS NULL THEN
      SELECT id INTO v FROM points_account
       WHERE owner_type = 'member' AND kind = 'wallet' AND user_id = p_user AND asset_id = p_asset
         AND campaign_id IS NULL AND partner_id IS NULL;
    END IF;
  END IF;
  RETURN v;
END $$;

-- Get or create many members' wallets at once (bulk awards).
CREATE OR REPLACE FUNCTION points_member_accounts(p_users bigint[], p_asset text)
RETURNS TABLE (user_id bigint, account_id bigint) LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  INSERT INTO points_account (asset_id, owner_type, kind, user_id, campaign_id, partner_id, balance, deferred,
                              no_negative, tracks_lots, created_at)
  SELECT p_asset, 'member', 'wallet', u, NULL, NULL, 0, false, true, p_asset = 'PTS', now()
    FROM (SELECT DISTINCT u FROM unnest(p_users) AS u) us
   WHERE NOT EXISTS (SELECT 1 FROM points_account a
                      WHERE a.owner_type = 'member' AND a.kind = 'wallet' AND a.user_id = us.u
                        AND a.asset_id = p_asset AND a.campaign_id IS NULL AND a.partner_id IS NULL)
  ON CONFLICT DO NOTHING;
  RETURN QUERY
    SELECT a.user_id, a.id FROM (SELECT DISTINCT u FROM unnest(p_users) AS u) us
      JOIN points_account a ON a.owner_type = 'member' AND a.kind = 'wallet' AND a.user_id = us.u
       AND a.asset_id = p_asset AND a.campaign_id IS NULL AND a.partner_id IS NULL;
END $$;

-- Get or create a deferred system/campaign account (issuance, spend, expiry, prize, adjustment, holds...).
-- (Two look-ups rather than IS NOT DISTINCT FROM, which no index can serve.)
CREATE OR REPLACE FUNCTION points_system_account(p_owner text, p_kind text, p_campaign bigint, p_asset text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
  IF p_campaign IS NULL THEN
    SELECT id INTO v FROM points_account
     WHERE owner_type = p_owner AND kind = p_kind AND user_id IS NULL AND campaign_id IS NULL
       AND partner_id IS NULL AND asset_id = p_asset;
  ELSE
    SELECT id INTO v FROM points_account
     WHERE owner_type = p_owner AND kind = p_kind AND user_id IS NULL AND campaign_id = p_campaign
       AND partner_id IS NULL AND asset_id = p_asset;
  END IF;
  IF v IS NULL THEN
    INSERT INTO points_account (asset_id, owner_type, kind, user_id, campaign_id, partner_id, balance, deferred,
                                no_negative, tracks_lots, created_at)
    VALUES (p_asset, p_owner, p_kind, NULL, p_campaign, NULL, 0, true, false, false, now())
    ON CONFLICT DO NOTHING RETURNING id INTO v;
    IF v IS NULL THEN
      RETURN points_system_account(p_owner, p_kind, p_campaign, p_asset);
    END IF;
  END IF;
  RETURN v;
END $$;

CREATE OR REPLACE FUNCTION points_post(
  p_key text, p_asset text, p_debit bigint, p_credit bigint, p_amount bigint, p_kind text, p_reason text,
  p_campaign bigint, p_source_type integer, p_source_id text, p_actor bigint, p_reverses bigint,
  p_available_at timestamptz, p_expires_at timestamptz, p_now timestamptz, p_lot bigint
) RETURNS TABLE (transfer_id bigint, status text, debit_id bigint, credit_id bigint, detail bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
-- status: 'created' | 'replayed' (same key, same content) | 'conflict' (same key, other content; detail = the
-- existing transfer) | 'insufficient' (detail = spendable points) | 'account_not_found' | 'asset_mismatch' |
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

  SELECT * INTO v_old FROM points_transfer WHERE idempotency_key = p_key;
  IF FOUND THEN
    IF v_taken THEN  -- give back the debit taken above
      UPDATE points_account SET balance = balance + p_amount WHERE id = p_debit;
    END IF;
    IF v_old.debit_id = p_debit AND v_old.credit_id = p_credit AND v_old.amount = p_amount
       AND v_old.asset_id = p_asset AND v_old.kind = p_kind AND v_old.reverses_id IS NOT DISTINCT FROM p_reverses THEN
      RETURN QUERY SELECT v_old.id, 'replayed'::text, v_old.debit_id, v_old.credit_id, NULL::bigint;
    ELSE
      RETURN QUERY SELECT v_old.id, 'conflict'::text, v_old.debit_id, v_old.credit_id, v_old.id;
    END IF;
    RETURN;
  END IF;

  -- Plan the debit's lots, soonest-expiring first (a reversal of an earn takes back that earn's own lot
  -- first; the expiry job names the one expired lot it empties).
  IF NOT d.deferred AND d.tracks_lots THEN
    v_need := p_amount;
    FOR r IN
      SELECT l.id, l.remaining FROM points_lot l
       WHERE l.account_id = d.id AND l.remaining > 0
         AND CASE WHEN p_lot IS NOT NULL THEN l.id = p_lot
                  ELSE l.available_at <= p_now AND (l.expires_at IS NULL OR l.expires_at > p_now) END
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

  INSERT INTO points_transfer (idempotency_key, asset_id, debit_id, credit_id, amount, kind, reason, campaign_id,
                               source_type_id, source_id, actor_id, reverses_id, created_at)
  VALUES (p_key, p_asset, p_debit, p_credit, p_amount, p_kind, coalesce(p_reason, ''), p_campaign,
          p_source_type, coalesce(p_source_id, ''), p_actor, p_reverses, p_now)
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

-- Many awards from deferred (system) accounts in one statement: the bulk-award path.
CREATE OR REPLACE FUNCTION points_post_batch(
  p_keys text[], p_debits bigint[], p_credits bigint[], p_amounts bigint[], p_available timestamptz[],
  p_expires timestamptz[], p_asset text, p_kind text, p_reason text, p_campaign bigint, p_actor bigint,
  p_now timestamptz
) RETURNS TABLE (key text, transfer_id bigint, created boolean) LANGUAGE plpgsql AS $$
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
    INSERT INTO points_transfer (idempotency_key, asset_id, debit_id, credit_id, amount, kind, reason, campaign_id,
                                 source_type_id, source_id, actor_id, reverses_id, created_at)
    SELECT k, p_asset, dr, cr, amount, p_kind, coalesce(p_reason, ''), p_campaign, NULL, '', p_actor, NULL, p_now
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
      OR t.kind <> p_kind
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

-- Fold deferred deltas into system balances. Only committed rows are visible to DELETE, so a posting that
-- commits later is simply picked up by the next rollup: nothing is lost or counted twice.
CREATE OR REPLACE FUNCTION points_rollup() RETURNS integer LANGUAGE sql AS $$
  WITH gone AS (DELETE FROM points_accountdelta RETURNING account_id, amount),
       sums AS (SELECT account_id, sum(amount) AS total, count(*) AS n FROM gone GROUP BY account_id),
       upd AS (UPDATE points_account a SET balance = a.balance + sums.total FROM sums
                WHERE a.id = sums.account_id RETURNING a.id)
  SELECT coalesce(sum(n), 0)::integer FROM sums;
$$;
"""

REVERSE_SQL = r"""
DROP FUNCTION IF EXISTS points_rollup();
DROP FUNCTION IF EXISTS points_post_batch(text[], bigint[], bigint[], bigint[], timestamptz[], timestamptz[], text,
                                         text, text, bigint, bigint, timestamptz);
DROP FUNCTION IF EXISTS points_post(text, text, bigint, bigint, bigint, text, text, bigint, integer, text, bigint,
                                    bigint, timestamptz, timestamptz, timestamptz, bigint);
DROP FUNCTION IF EXISTS points_system_account(text, text, bigint, text);
DROP FUNCTION IF EXISTS points_member_account(bigint, text);
DROP FUNCTION IF EXISTS points_member_accounts(bigint[], text);
DROP TRIGGER IF EXISTS points_lot_guard ON points_lot;
DROP FUNCTION IF EXISTS points_lot_guard();
DROP TRIGGER IF EXISTS points_lot_no_delete ON points_lot;
DROP TRIGGER IF EXISTS points_account_no_delete ON points_account;
DROP TRIGGER IF EXISTS points_consumption_immutable ON points_lotconsumption;
DROP TRIGGER IF EXISTS points_transfer_immutable ON points_transfer;
DROP FUNCTION IF EXISTS points_forbid_change();
"""


def seed_assets(apps, schema_editor):
    asset = apps.get_model("points", "Asset")
    asset.objects.get_or_create(code="PTS", defaults={"name": "Points", "minor_units": 0})
    asset.objects.get_or_create(code="CNY", defaults={"name": "Renminbi (fen)", "minor_units": 2})


class Migration(migrations.Migration):
    dependencies = [("points", "0001_initial")]

    operations = [
        migrations.RunSQL(SQL, REVERSE_SQL),
        migrations.RunPython(seed_assets, migrations.RunPython.noop),
    ]
