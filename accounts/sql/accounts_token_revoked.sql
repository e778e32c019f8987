-- Signed access tokens (ADR 0012) are verified without a query: each web process keeps the ids of revoked,
-- not yet expired access tokens in memory (accounts/revocations.py), loaded once and kept current by
-- LISTEN pm_token_revoked. These triggers send that notification for every way an access token stops being valid
-- before its expiry. A notification is delivered when its transaction commits and never if it rolls back, so a
-- process learns of a revocation exactly when the revocation becomes true, however long its transaction ran.
--   * revoked (sign-out, refresh rotation, a family revoked on reuse): revoked_at set;
--   * deleted (its member deleted: the foreign key cascades);
--   * its member deactivated: the member's live tokens are revoked (so a reactivated member signs in again), which
--     notifies through the first trigger.
-- Payload: '<token id>:<access expiry, unix seconds>' (the process forgets the id once the token has expired).

CREATE OR REPLACE FUNCTION accounts_token_revoked_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('pm_token_revoked', OLD.id || ':' || ceil(extract(epoch FROM OLD.access_expires_at))::bigint);
  RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER accounts_apitoken_revoked AFTER UPDATE OF revoked_at ON accounts_apitoken
  FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
  EXECUTE FUNCTION accounts_token_revoked_notify();

CREATE OR REPLACE TRIGGER accounts_apitoken_deleted AFTER DELETE ON accounts_apitoken
  FOR EACH ROW WHEN (OLD.revoked_at IS NULL)
  EXECUTE FUNCTION accounts_token_revoked_notify();

CREATE OR REPLACE FUNCTION accounts_user_deactivated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE accounts_apitoken SET revoked_at = now() WHERE user_id = NEW.id AND revoked_at IS NULL;
  RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER accounts_user_deactivated AFTER UPDATE OF is_active ON accounts_user
  FOR EACH ROW WHEN (OLD.is_active AND NOT NEW.is_active)
  EXECUTE FUNCTION accounts_user_deactivated();
