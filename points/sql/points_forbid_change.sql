-- The ledger is append-only: transfers and lot consumptions never change, lots and accounts are never deleted.
-- Any such statement raises PM090 (points.services maps it onto a domain error) and rolls the caller back.
-- (Lot remainders change through points_lot_guard.sql; balances through points_post.)

CREATE OR REPLACE FUNCTION points_forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger rows are immutable: % on % refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'PM090';
END $$;

CREATE OR REPLACE TRIGGER points_transfer_immutable BEFORE UPDATE OR DELETE ON points_transfer
  FOR EACH ROW EXECUTE FUNCTION points_forbid_change();

CREATE OR REPLACE TRIGGER points_consumption_immutable BEFORE UPDATE OR DELETE ON points_lotconsumption
  FOR EACH ROW EXECUTE FUNCTION points_forbid_change();

CREATE OR REPLACE TRIGGER points_lot_no_delete BEFORE DELETE ON points_lot
  FOR EACH ROW EXECUTE FUNCTION points_forbid_change();

CREATE OR REPLACE TRIGGER points_account_no_delete BEFORE DELETE ON points_account
  FOR EACH ROW EXECUTE FUNCTION points_forbid_change();
