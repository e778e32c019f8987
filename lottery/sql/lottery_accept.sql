-- The digest as a big-endian 256-bit integer x mapped onto [0, total): x % total, or -1 when x lies in the
-- top 2^256 % total values, which would bias the result (the caller then tries the next message).

CREATE OR REPLACE FUNCTION lottery_accept(p_digest bytea, p_total bigint) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  x numeric := 0;
  space numeric := power(2::numeric, 256);
BEGIN
  FOR i IN 0..31 LOOP
    x := x * 256 + get_byte(p_digest, i);
  END LOOP;
  IF x >= space - mod(space, p_total) THEN
    RETURN -1;
  END IF;
  RETURN mod(x, p_total)::bigint;
END $$;
