-- campaign_multiplier_issue(): give a member a multiplier card active from p_now for p_hours, idempotent by
-- p_source_key (the same key returns the card it made the first time, whatever the other arguments say).
-- campaigns.services.multiplier_card_issue wraps it; lottery_spin calls it for a card won on the wheel. The card
-- takes effect in campaign_grant.sql.
CREATE OR REPLACE FUNCTION campaign_multiplier_issue(
  p_campaign bigint, p_user bigint, p_percent integer, p_hours integer, p_source_key text, p_now timestamptz
) RETURNS SETOF campaigns_multipliercard LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY
    INSERT INTO campaigns_multipliercard (campaign_id, user_id, percent, starts_at, ends_at, source_key, created_at)
    VALUES (p_campaign, p_user, p_percent, p_now, p_now + make_interval(hours => p_hours), p_source_key, now())
    ON CONFLICT (source_key) DO NOTHING
    RETURNING *;
  IF NOT FOUND THEN
    RETURN QUERY SELECT * FROM campaigns_multipliercard c WHERE c.source_key = p_source_key;
  END IF;
END $$;
