-- The roll of a player's n-th spin: rejection sampling over HMAC digests of "player:spin" (then
-- "player:spin:1", "player:spin:2"...) until one maps onto [0, total) without bias. The algorithm of
-- lottery/fairness.py; `p_player` is the member's player key on the wheel (lottery_wheelplayer.player_key).
-- LS003: the odds table is empty.

CREATE OR REPLACE FUNCTION lottery_roll(p_ipad bytea, p_opad bytea, p_player text, p_spin integer, p_total bigint)
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
                   CASE WHEN attempt = 0 THEN p_player || ':' || p_spin ELSE p_player || ':' || p_spin || ':' || attempt END),
      p_total);
    IF v >= 0 THEN
      RETURN v;
    END IF;
    attempt := attempt + 1;
  END LOOP;
END $$;
