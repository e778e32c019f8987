-- HMAC-SHA256 of a message from the key's inner/outer pads (computed by lottery.fairness.hmac_pads and passed
-- in), with Postgres built-ins only (sha256; no extension). tests/lottery/test_fairness.py proves the SQL and the
-- Python agree.

CREATE OR REPLACE FUNCTION lottery_hmac(p_ipad bytea, p_opad bytea, p_msg text) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT sha256(p_opad || sha256(p_ipad || convert_to(p_msg, 'UTF8')))
$$;
