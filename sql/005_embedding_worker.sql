-- 005_embedding_worker.sql: what the embedding worker (src/embed.c) needs
-- of the queue made in 002. Workers on any number of gateways claim jobs
-- with FOR UPDATE SKIP LOCKED under a lease; a worker that dies leaves its
-- jobs "running" with a lease that runs out, and another takes them over.

-- Jobs whose lease may have run out, found without scanning the done ones.
CREATE INDEX idx_embedding_jobs_running_lease ON embedding_jobs(lease_until)
   WHERE status = 'running';

-- At most one open (pending or running) job per target column: re-queueing
-- an edited row reuses its open job instead of adding a second one.
CREATE UNIQUE INDEX idx_embedding_jobs_open_target
   ON embedding_jobs(target_table, target_id, target_column)
   WHERE status IN ('pending', 'running');

-- The text a job embeds: its own input_text, else the target row's text
-- (interactions and notes: content). NULL when the row is gone.
CREATE FUNCTION crmgate_embedding_job_text(p_table text, p_id uuid, p_at timestamptz,
                                           p_input text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
   v_text text;
BEGIN
   IF p_input IS NOT NULL THEN
      RETURN p_input;
   END IF;
   IF p_table = 'interactions' THEN
      -- interacted_at too, so that only the row's partition is read
      SELECT content INTO v_text FROM interactions WHERE id = p_id AND interacted_at = p_at;
   ELSIF p_table = 'notes' THEN
      SELECT content INTO v_text FROM notes WHERE id = p_id;
   END IF;
   RETURN v_text;
END $$;

-- Claim up to p_limit jobs for p_worker for p_lease_s seconds: first jobs
-- whose lease ran out (their worker died), then pending ones, oldest
-- first. SKIP LOCKED: concurrent claimers never wait for nor take the
-- same job. Each claim counts an attempt.
CREATE FUNCTION crmgate_claim_embedding_jobs(p_worker text, p_limit int, p_lease_s int)
RETURNS TABLE (job_id bigint, target_table text, target_id uuid, target_at timestamptz,
               target_column text, attempts int, input text)
LANGUAGE plpgsql AS $$
DECLARE
   v_ids bigint[];
   v_more bigint[];
BEGIN
   SELECT array_agg(j.id) INTO v_ids FROM (
      SELECT e.id FROM embedding_jobs e
       WHERE e.status = 'running' AND e.lease_until < now()
       ORDER BY e.lease_until LIMIT p_limit
       FOR UPDATE SKIP LOCKED) j;
   v_ids := coalesce(v_ids, '{}');
   IF cardinality(v_ids) < p_limit THEN
      SELECT array_agg(j.id) INTO v_more FROM (
         SELECT e.id FROM embedding_jobs e
          WHERE e.status = 'pending'
          ORDER BY e.id LIMIT p_limit - cardinality(v_ids)
          FOR UPDATE SKIP LOCKED) j;
      v_ids := v_ids || coalesce(v_more, '{}');
   END IF;
   RETURN QUERY
   UPDATE embedding_jobs e
      SET status = 'running', claimed_by = p_worker,
          lease_until = now() + make_interval(secs => p_lease_s),
          attempts = e.attempts + 1, updated_at = now()
    WHERE e.id = ANY (v_ids)
   RETURNING e.id, e.target_table, e.target_id, e.target_at, e.target_column, e.attempts,
             crmgate_embedding_job_text(e.target_table, e.target_id, e.target_at, e.input_text);
END $$;

-- Write the vectors of claimed jobs and mark them done, in one
-- statement. A job no longer claimed by p_worker (its lease ran out and
-- another worker took it, or the row was re-queued since) is skipped:
-- its vector may be of old text. p_notes[i] (may be NULL) is kept in
-- last_error, e.g. that the text was truncated. Returns the jobs done.
CREATE FUNCTION crmgate_finish_embedding_jobs(p_worker text, p_ids bigint[], p_vectors text[],
                                              p_notes text[]) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
   v_job record;
   v_done int := 0;
BEGIN
   FOR v_job IN
      SELECT e.id, e.target_table, e.target_id, e.target_at, e.target_column, t.vec, t.note
        FROM unnest(p_ids, p_vectors, p_notes) AS t(id, vec, note)
        JOIN embedding_jobs e ON e.id = t.id
       WHERE e.status = 'running' AND e.claimed_by = p_worker
       ORDER BY e.id
         FOR UPDATE OF e
   LOOP
      IF v_job.vec IS NOT NULL THEN
         IF v_job.target_table = 'interactions' THEN
            -- the partition key in the WHERE clause prunes to one partition
            EXECUTE format('UPDATE interactions SET %I = $1::vector WHERE id = $2 AND interacted_at = $3',
                           v_job.target_column)
              USING v_job.vec, v_job.target_id, v_job.target_at;
         ELSE
            EXECUTE format('UPDATE %I SET %I = $1::vector WHERE id = $2',
                           v_job.target_table, v_job.target_column)
              USING v_job.vec, v_job.target_id;
         END IF;
      END IF;
      UPDATE embedding_jobs
         SET status = 'done', last_error = v_job.note, claimed_by = NULL, lease_until = NULL,
             updated_at = now()
       WHERE id = v_job.id;
      v_done := v_done + 1;
   END LOOP;
   RETURN v_done;
END $$;

-- Give claimed jobs back: p_final marks them failed for good, else they
-- are pending again (retried by the next claim). The reason goes to
-- last_error either way, so "crmgate status" can show it. p_refund: the
-- claim does not count as an attempt (Voyage was unavailable: an outage
-- must not use up the jobs' attempts).
CREATE FUNCTION crmgate_release_embedding_jobs(p_worker text, p_ids bigint[], p_error text,
                                               p_final boolean, p_refund boolean DEFAULT false)
RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
   v_n int;
BEGIN
   UPDATE embedding_jobs
      SET status = CASE WHEN p_final THEN 'failed'::embedding_job_status
                        ELSE 'pending'::embedding_job_status END,
          last_error = left(p_error, 1000), claimed_by = NULL, lease_until = NULL,
          attempts = CASE WHEN p_refund THEN greatest(attempts - 1, 0) ELSE attempts END,
          updated_at = now()
    WHERE id = ANY (p_ids) AND status = 'running' AND claimed_by = p_worker;
   GET DIAGNOSTICS v_n = ROW_COUNT;
   RETURN v_n;
END $$;

-- Queue (again) the embedding of a row whose text changed, e.g. a meeting
-- updated by CalDAV: callers run it in the transaction that changes the
-- row. An open job for the same target is reset (a running one too: its
-- worker's result is then discarded, see crmgate_finish_embedding_jobs),
-- so a row has at most one open job. p_at is the interaction's
-- interacted_at (its new one, if it moved); p_input NULL means the row's
-- own text. Returns the job id.
CREATE FUNCTION crmgate_requeue_embedding(p_workspace_id uuid, p_table text, p_id uuid,
                                          p_at timestamptz, p_column text DEFAULT 'embedding',
                                          p_input text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
   v_job bigint;
BEGIN
   INSERT INTO embedding_jobs (workspace_id, target_table, target_id, target_at, target_column,
                               input_text)
   VALUES (p_workspace_id, p_table, p_id, p_at, p_column, p_input)
   ON CONFLICT (target_table, target_id, target_column) WHERE status IN ('pending', 'running')
   DO UPDATE SET status = 'pending', target_at = EXCLUDED.target_at,
                 input_text = EXCLUDED.input_text, attempts = 0, last_error = NULL,
                 claimed_by = NULL, lease_until = NULL, updated_at = now()
   RETURNING id INTO v_job;
   RETURN v_job;
END $$;
