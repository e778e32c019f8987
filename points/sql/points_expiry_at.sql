-- points_expiry_at(): when points earned at p_earned in a campaign expire — the first instant they are no longer
-- spendable, local midnight in the policy's timezone — or NULL (never). The one home of the expiry rule: the
-- policy is the campaign's points_expirypolicy row (written only by campaigns.services.campaign_save from the
-- campaign's fields), else the default row (campaign NULL, edited in the ledger admin), else none.
--
-- Read where the posting happens: points.services.transfer_post passes `points_expiry_at(...)` as points_post's
-- p_expires_at inside the same statement, so a policy change applies to the next posting in every process — no
-- cache, no extra round trip.
--
-- Rules: never | days (N whole days after the day of earning) | month_end (midnight starting the next month) |
-- year_end (midnight starting the next year). "End of month" earned 31 Jan 23:59:59 Shanghai expires
-- 1 Feb 00:00 +08:00.
CREATE OR REPLACE FUNCTION points_expiry_at(p_campaign bigint, p_asset text, p_earned timestamptz)
RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_policy points_expirypolicy%ROWTYPE;
  v_day date;
  v_end date;
BEGIN
  IF p_campaign IS NOT NULL THEN
    SELECT * INTO v_policy FROM points_expirypolicy WHERE campaign_id = p_campaign AND asset_id = p_asset;
  END IF;
  IF v_policy.id IS NULL THEN
    SELECT * INTO v_policy FROM points_expirypolicy WHERE campaign_id IS NULL AND asset_id = p_asset;
  END IF;
  IF v_policy.id IS NULL OR v_policy.rule = 'never' THEN
    RETURN NULL;
  END IF;
  v_day := (p_earned AT TIME ZONE v_policy.timezone)::date;
  v_end := CASE v_policy.rule
             WHEN 'days' THEN v_day + v_policy.days + 1
             WHEN 'month_end' THEN (date_trunc('month', v_day) + interval '1 month')::date
             WHEN 'year_end' THEN make_date(extract(year FROM v_day)::integer + 1, 1, 1)
           END;
  IF v_end IS NULL THEN
    RAISE EXCEPTION 'unknown expiry rule %', v_policy.rule USING ERRCODE = 'PM008';
  END IF;
  RETURN v_end::timestamp AT TIME ZONE v_policy.timezone;
END $$;
