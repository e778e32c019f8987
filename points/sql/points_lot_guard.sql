-- A lot's facts are immutable; only `remaining` may change (consumption, expiry, reversal).

CREATE OR REPLACE FUNCTION points_lot_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.account_id <> OLD.account_id OR NEW.transfer_id <> OLD.transfer_id OR NEW.amount <> OLD.amount
     OR NEW.available_at <> OLD.available_at OR NEW.expires_at IS DISTINCT FROM OLD.expires_at
     OR NEW.campaign_id IS DISTINCT FROM OLD.campaign_id THEN
    RAISE EXCEPTION 'only lot.remaining may change' USING ERRCODE = 'PM090';
  END IF;
  RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER points_lot_guard BEFORE UPDATE ON points_lot FOR EACH ROW EXECUTE FUNCTION points_lot_guard();
