-- 008_caldav.sql: meetings whose CalDAV resource went away.
--
-- A CalDAV source (src/caldav_sync.c) stores every occurrence of a
-- calendar resource as a meeting with metadata.caldav_href, the
-- resource's URL. When the resource is deleted, or an edit of it no
-- longer holds an occurrence (an EXDATE, a shortened series, another
-- UID), the meeting did not take place: the CRM keeps it, as history of
-- what was planned, marked cancelled. No new table: the href lives in the
-- interaction's metadata, so the row-level security of 007 covers it.

-- Found by href, within a workspace; only CalDAV meetings carry one.
CREATE INDEX idx_interactions_caldav_href ON interactions
   (workspace_id, (metadata->>'caldav_href')) WHERE metadata ? 'caldav_href';
-- From an interaction to its dedup key (the key's row holds the
-- fingerprint to clear).
CREATE INDEX idx_ingest_keys_interaction_id ON ingest_keys(interaction_id);

-- Mark cancelled the meetings of one resource, except the dedup keys in
-- p_keep (a JSON array of keys: what the resource still holds). With
-- p_from and p_to, only occurrences whose original start (recurrence_id,
-- else start) lies in [p_from, p_to): the expansion window the resource
-- was read with, as occurrences outside it were not looked at. Already
-- marked meetings are left alone. Their ingest_keys fingerprint is
-- cleared, so that the meeting coming back (the resource put again, the
-- EXDATE taken out) replaces the marked row instead of being taken for a
-- duplicate. Returns how many meetings were marked.
CREATE FUNCTION crmgate_caldav_forget(p_workspace_id uuid, p_href text, p_keep jsonb,
                                      p_from timestamptz, p_to timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
   v record;
   v_n integer := 0;
BEGIN
   FOR v IN
      SELECT i.id, i.interacted_at, k.dedup_key
        FROM interactions i
        JOIN ingest_keys k ON k.workspace_id = i.workspace_id AND k.interaction_id = i.id
       WHERE i.workspace_id = p_workspace_id
         AND i.metadata ? 'caldav_href'
         AND i.metadata->>'caldav_href' = p_href
         AND NOT coalesce((i.metadata->>'caldav_deleted')::boolean, false)
         AND NOT (coalesce(p_keep, '[]'::jsonb) ? k.dedup_key)
         AND (p_from IS NULL OR
              (coalesce(i.metadata->>'recurrence_id', i.metadata->>'start')::timestamptz >= p_from
               AND coalesce(i.metadata->>'recurrence_id', i.metadata->>'start')::timestamptz < p_to))
         FOR UPDATE OF i
   LOOP
      UPDATE interactions
         SET metadata = metadata || jsonb_build_object('cancelled', true, 'caldav_deleted', true,
                                                       'caldav_deleted_at', now())
       WHERE id = v.id AND interacted_at = v.interacted_at;
      UPDATE ingest_keys SET fingerprint = NULL
       WHERE workspace_id = p_workspace_id AND dedup_key = v.dedup_key;
      v_n := v_n + 1;
   END LOOP;
   RETURN v_n;
END $$;
