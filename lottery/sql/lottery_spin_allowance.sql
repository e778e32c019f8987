-- lottery_spin_allowance(): the one home of the wheel's cap and free-spin rule. Given a member's counter row as
-- stored (lottery_wheelplayer: spins_total, spins_today counted on `day`) and the wheel's settings, what the
-- member may do now: spins made today (a counter of an earlier day counts as 0), free spins left today, spins
-- left under each cap (NULL = no cap), what the next spin costs (free while today's spins are fewer than the free
-- spins), and whether a spin is allowed (under both caps).
--
-- lottery_spin decides with it (under the member's row lock) and lottery.selectors.spin_status shows it, so the
-- page and the spin cannot disagree. A member without a counter row passes 0, 0, NULL.
CREATE OR REPLACE FUNCTION lottery_spin_allowance(
  p_spins_total integer, p_spins_today integer, p_day date, p_today date, p_daily_cap integer,
  p_total_cap integer, p_free integer, p_cost integer
) RETURNS TABLE (spins_today integer, spins_total integer, free_left integer, left_today integer,
                 left_total integer, next_cost integer, allowed boolean)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT t.today, t.total, greatest(p_free - t.today, 0),
         CASE WHEN p_daily_cap IS NOT NULL THEN greatest(p_daily_cap - t.today, 0) END,
         CASE WHEN p_total_cap IS NOT NULL THEN greatest(p_total_cap - t.total, 0) END,
         CASE WHEN t.today < p_free THEN 0 ELSE p_cost END,
         (p_daily_cap IS NULL OR t.today < p_daily_cap) AND (p_total_cap IS NULL OR t.total < p_total_cap)
    FROM (SELECT CASE WHEN p_day = p_today THEN coalesce(p_spins_today, 0) ELSE 0 END AS today,
                 coalesce(p_spins_total, 0) AS total) t
$$;
