-- tasks_milestone_reached(): whether a check-in with streak p_streak reaches one of the rule's streak milestones —
-- the SQL twin of tasks.rules.milestone_reached (tests/tasks/test_milestone_sql.py proves them equal streak by
-- streak), so the check-in records a streak job only when it can pay something. p_milestones: the rule's JSON list
-- [{"day": 3, "points": 10}, ...]; with p_cycle the count starts again after the last milestone (day 8 of a 7-day
-- cycle is day 1).
-- PL/pgSQL, not LANGUAGE sql: Postgres (before 18) plans a SQL function that it cannot inline afresh in every
-- transaction that calls it — 0.18 ms of each check-in's 1.0 ms of Postgres CPU (issue 12) — while PL/pgSQL keeps
-- its plans for the session (ADR 0004).

CREATE OR REPLACE FUNCTION tasks_milestone_reached(p_milestones jsonb, p_cycle boolean, p_streak integer)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  v_days integer[];
  v_last integer;
BEGIN
  IF jsonb_typeof(p_milestones) IS DISTINCT FROM 'array' THEN
    RETURN false;
  END IF;
  SELECT array_agg((e ->> 'day')::integer), max((e ->> 'day')::integer) INTO v_days, v_last
    FROM jsonb_array_elements(p_milestones) e;
  IF v_last IS NULL OR v_last <= 0 THEN  -- no milestone
    RETURN false;
  END IF;
  RETURN coalesce(CASE WHEN p_cycle THEN ((p_streak - 1) % v_last) + 1 ELSE p_streak END = ANY (v_days), false);
END $$;
