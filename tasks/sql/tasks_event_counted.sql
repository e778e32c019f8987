-- tasks_event_counted(): whether an active task of a campaign counts an event type, for callers that work in
-- SQL (the prize wheel's lottery_spin asks it before doing anything, so that spins of campaigns without spin
-- tasks stay one round trip).
-- PL/pgSQL, not LANGUAGE sql: Postgres (before 18) plans a SQL function that it cannot inline afresh in every
-- transaction that calls it, while PL/pgSQL keeps its plans for the session (ADR 0004).

CREATE OR REPLACE FUNCTION tasks_event_counted(p_campaign bigint, p_type text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM tasks_taskdefinition t
                  WHERE t.campaign_id = p_campaign AND t.event_type = p_type AND t.is_active);
END $$;
