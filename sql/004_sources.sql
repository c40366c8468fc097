-- 004_sources.sql: connected mailboxes and calendars ("sources"), where
-- each one has got to, and who is syncing it.
--
-- A source's secret is never stored here: settings keep the path of a
-- file holding the password or OAuth2 token, read at each connection
-- (so a token refreshed by another tool is picked up).
CREATE TABLE sources (
   id BIGSERIAL PRIMARY KEY,
   workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   kind TEXT NOT NULL CHECK (kind IN ('imap', 'caldav')),
   -- imap: host, port, security (tls|starttls|plain), user,
   -- auth (password|xoauth2), secret_file, folders[], since, ca_file
   settings JSONB NOT NULL,
   state TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'syncing', 'idle', 'error')),
   last_sync_at TIMESTAMPTZ,
   last_error TEXT,
   last_error_at TIMESTAMPTZ,
   stored BIGINT NOT NULL DEFAULT 0,
   duplicates BIGINT NOT NULL DEFAULT 0,
   skipped BIGINT NOT NULL DEFAULT 0,
   failed BIGINT NOT NULL DEFAULT 0,
   -- Several gateways share one database: the holder of an unexpired
   -- lease is the only one syncing this source. A holder that dies
   -- stops renewing, and another takes over when lease_until passes.
   lease_holder TEXT,
   lease_until TIMESTAMPTZ,
   created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_sources_workspace_id ON sources(workspace_id);

-- Where a source has got to, per folder (IMAP: UIDVALIDITY and the last
-- stored UID) or collection (CalDAV: sync token). Written only in the
-- transaction that stores the rows it covers.
CREATE TABLE source_cursors (
   source_id BIGINT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
   folder TEXT NOT NULL,
   workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   state JSONB NOT NULL,
   updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
   PRIMARY KEY (source_id, folder)
);

-- Messages a source could not log, with the server's reference (the UID)
-- and why, for the admin: the sync goes past them.
CREATE TABLE source_failures (
   id BIGSERIAL PRIMARY KEY,
   source_id BIGINT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
   workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   folder TEXT NOT NULL,
   ref TEXT NOT NULL,
   reason TEXT NOT NULL,
   failed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_source_failures_source_id ON source_failures(source_id, failed_at);

-- Take or renew the lease: true when p_holder now holds it.
CREATE FUNCTION crmgate_source_lease(p_source_id bigint, p_holder text, p_seconds int)
RETURNS boolean LANGUAGE sql AS $$
   UPDATE sources SET lease_holder = p_holder,
                      lease_until = now() + make_interval(secs => p_seconds)
    WHERE id = p_source_id
      AND (lease_holder IS NULL OR lease_holder = p_holder OR lease_until < now())
   RETURNING true;
$$;

-- Advance a folder's cursor and record the messages refused in it, in
-- the caller's transaction (the one storing the rows they cover).
-- p_failures: [{"ref": "UID 17", "reason": "..."}]
CREATE FUNCTION crmgate_source_advance(p_source_id bigint, p_folder text, p_state jsonb,
                                       p_failures jsonb) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
   v_workspace uuid;
BEGIN
   SELECT workspace_id INTO v_workspace FROM sources WHERE id = p_source_id;
   IF NOT FOUND THEN
      RAISE EXCEPTION 'source % no longer exists', p_source_id USING ERRCODE = 'no_data_found';
   END IF;
   INSERT INTO source_cursors (source_id, folder, workspace_id, state)
   VALUES (p_source_id, p_folder, v_workspace, p_state)
   ON CONFLICT (source_id, folder) DO UPDATE SET state = EXCLUDED.state, updated_at = now();
   IF p_failures IS NOT NULL AND jsonb_array_length(p_failures) > 0 THEN
      INSERT INTO source_failures (source_id, workspace_id, folder, ref, reason)
      SELECT p_source_id, v_workspace, p_folder, f->>'ref', f->>'reason'
        FROM jsonb_array_elements(p_failures) AS f;
   END IF;
   RETURN true;
END;
$$;
