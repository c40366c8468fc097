-- 010_dropbox.sql: what reaches a workspace's BCC dropbox.
--
-- workspaces.dropbox_senders: 'users' (the default) takes dropbox mail
-- only from the workspace's users (envelope sender or From, checked by
-- crmgate serve), 'anyone' from every sender.
--
-- dropbox_arrivals: the loop breaker's memory. One row per dropbox mail
-- stored, under (workspace, sender); a sender with more than
-- dropbox_loop_limit rows within dropbox_loop_window seconds is
-- throttled. Rows older than the window are pruned as arrivals come.
ALTER TABLE workspaces ADD COLUMN dropbox_senders TEXT NOT NULL DEFAULT 'users'
   CHECK (dropbox_senders IN ('users', 'anyone'));

CREATE TABLE dropbox_arrivals (
   id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
   workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   sender TEXT NOT NULL,
   arrived_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX idx_dropbox_arrivals_sender ON dropbox_arrivals (workspace_id, sender, arrived_at);
CREATE INDEX idx_dropbox_arrivals_at ON dropbox_arrivals (workspace_id, arrived_at);

-- Row-level security as in 007 (which only saw the tables of its time).
ALTER TABLE dropbox_arrivals ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON dropbox_arrivals
   USING (workspace_id = crmgate_current_workspace())
   WITH CHECK (workspace_id = crmgate_current_workspace());
DO $$
BEGIN
   IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'crmgate_tenant') THEN
      GRANT SELECT, INSERT, UPDATE, DELETE ON dropbox_arrivals TO crmgate_tenant;
   END IF;
END $$;

-- For each key of p_keys in order: count its arrivals in the workspace
-- within the window; under p_limit, record one more (arrival_id is its
-- id), else arrival_id is 0. arrivals counts the window with this one.
-- A NULL key is not counted (0, 0). Each key is serialised with an
-- advisory lock held to the commit, so that two gateways counting the
-- same sender at once both see each other's arrival.
CREATE FUNCTION crmgate_arrivals_take(p_ws uuid, p_keys text[], p_window int, p_limit int)
RETURNS TABLE (ord int, arrival_id bigint, arrivals int)
LANGUAGE plpgsql AS $$
DECLARE
   k text;
   i int := 0;
   c int;
   since timestamptz := clock_timestamp() - make_interval(secs => p_window);
BEGIN
   DELETE FROM dropbox_arrivals d WHERE d.workspace_id = p_ws AND d.arrived_at < since;
   -- in one order, so that two batches cannot wait for each other
   FOR k IN SELECT DISTINCT u FROM unnest(p_keys) AS u WHERE u IS NOT NULL ORDER BY 1 LOOP
      PERFORM pg_advisory_xact_lock(hashtextextended(p_ws::text || ' ' || k, 10));
   END LOOP;
   FOREACH k IN ARRAY p_keys LOOP
      i := i + 1;
      ord := i;
      arrival_id := 0;
      arrivals := 0;
      IF k IS NOT NULL THEN
         SELECT count(*) INTO c FROM dropbox_arrivals d
          WHERE d.workspace_id = p_ws AND d.sender = k AND d.arrived_at >= since;
         arrivals := c + 1;
         IF c < p_limit THEN
            INSERT INTO dropbox_arrivals (workspace_id, sender) VALUES (p_ws, k)
            RETURNING id INTO arrival_id;
         END IF;
      END IF;
      RETURN NEXT;
   END LOOP;
END $$;
