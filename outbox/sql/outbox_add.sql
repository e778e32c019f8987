-- outbox_add(): record a job a member waits for, in the caller's transaction (ADR 0008). SQL callers (a check-in, one
-- statement) call it where the effect happens, so the job commits or rolls back with it and costs no extra round
-- trip; outbox.services.outbox_add calls it for Python callers. Idempotent by key: adding a key that exists changes
-- nothing and returns false; a new row returns true.
--
-- p_key: names the effect (e.g. 'tasks.streak:<campaign>:<member>:<day>'); p_job: the Celery task's name; p_args: its
-- positional arguments (a JSON array; the task also receives outbox_key => p_key); p_now: the effect's time.
-- The row is due 20 seconds later (outbox.services.DELAY): if the job has not marked it done by then, the relay
-- publishes it again. The caller publishes it at once after commit (outbox.services.outbox_publish_on_commit).

CREATE OR REPLACE FUNCTION outbox_add(p_key text, p_job text, p_args jsonb, p_now timestamptz) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  IF jsonb_typeof(p_args) IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION 'outbox_add: the arguments of % must be a JSON array, not %', p_key, p_args USING ERRCODE = '22023';
  END IF;
  INSERT INTO outbox_entry (key, job, args, status, attempts, created_at, due_at, published_at, done_at, last_error)
  VALUES (p_key, p_job, p_args, 'pending', 0, p_now, p_now + interval '20 seconds', NULL, NULL, '')
  ON CONFLICT (key) DO NOTHING;
  RETURN FOUND;
END $$;
