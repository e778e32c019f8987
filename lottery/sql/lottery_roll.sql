-- The roll of a member's n-th spin: rejection sampling over HMAC digests of "user:spin" (then "user:spin:1",
-- "user:spin:2"...) until one maps onto [0, total) without bias. The algorithm of lottery/fairness.py.
-- LS003: the odds table is empty.

CREATE OR REPLACE FUNCTION lottery_roll(p_ipad bytea, p_opad bytea, p_user bigint, p_spin integer, p_total bigint)
RETURNS bigint LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  v bigint;
  attempt integer := 0;
BEGIN
  IF p_total <= 0 THEN
    RAISE EXCEPTION 'the odds table is empty' USING ERRCODE = 'LS003';
  END IF;
  LOOP
    v := lottery_accept(
      lottery_hmac(p_ipad, p_opad,
                   CASE WHEN attempt = 0 THEN p_user || ':' || p_spin ELSE p_user || ':' || p_spin || ':' || attempt END),
      p_total);
    IF v >= 0 THEN
      RETURN v;
    END IF;
    attempt := attempt + 1;
  END LOOP;
END $$;
