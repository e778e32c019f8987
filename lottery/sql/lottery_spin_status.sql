-- lottery_spin_status(): a member's spin status on a wheel at p_now, read from the rows themselves: the wheel's
-- caps, free spins and cost (lottery_wheel), the campaign's local date (the date of p_now in
-- campaigns_campaign.timezone, as campaigns.selectors.campaign_local_date) and the member's counter row
-- (lottery_wheelplayer; a member who never spun has none: 0 spins), put through lottery_spin_allowance(), the one
-- home of the caps and free-spin rule. Columns as lottery_spin_allowance's (allowed: under both caps).
--
-- lottery.selectors.spin_status and the wheel API read it, and lottery_spin answers a spin with it (the status
-- for the next spin), so what members are shown is what the spin decides with. No row for an unknown wheel.
-- PL/pgSQL, not SQL: its plan is cached per connection (the SQL version, inlined, was planned again on every call
-- and cost ~0.6 ms instead of ~0.1 ms).
CREATE OR REPLACE FUNCTION lottery_spin_status(p_wheel bigint, p_user bigint, p_now timestamptz)
RETURNS TABLE (spins_today integer, spins_total integer, free_left integer, left_today integer,
               left_total integer, next_cost integer, allowed boolean)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY
  SELECT a.spins_today, a.spins_total, a.free_left, a.left_today, a.left_total, a.next_cost, a.allowed
    FROM lottery_wheel w
    JOIN campaigns_campaign c ON c.id = w.campaign_id
    LEFT JOIN lottery_wheelplayer p ON p.wheel_id = w.id AND p.user_id = p_user
   CROSS JOIN LATERAL lottery_spin_allowance(p.spins_total, p.spins_today, p.day, (p_now AT TIME ZONE c.timezone)::date,
                                             w.daily_cap, w.total_cap, w.free_spins_per_day, w.cost_points) a
   WHERE w.id = p_wheel;
END $$;
