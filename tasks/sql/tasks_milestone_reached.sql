-- tasks_milestone_reached(): whether a check-in with streak p_streak reaches one of the rule's streak milestones —
-- the SQL twin of tasks.rules.milestone_reached (tests/tasks/test_milestone_sql.py proves them equal streak by
-- streak), so the check-in records a streak job only when it can pay something. p_milestones: the rule's JSON list
-- [{"day": 3, "points": 10}, ...]; with p_cycle the count starts again after the last milestone (day 8 of a 7-day
-- cycle is day 1).

CREATE OR REPLACE FUNCTION tasks_milestone_reached(p_milestones jsonb, p_cycle boolean, p_streak integer)
RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  WITH m AS (
    SELECT (e ->> 'day')::integer AS day
      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p_milestones) = 'array' THEN p_milestones ELSE '[]' END) e
  )
  SELECT EXISTS (
    SELECT 1 FROM m, (SELECT max(day) AS last FROM m) l
     WHERE l.last > 0
       AND m.day = CASE WHEN p_cycle THEN ((p_streak - 1) % l.last) + 1 ELSE p_streak END
  )
$$;
