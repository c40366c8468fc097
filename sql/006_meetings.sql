-- 006_meetings.sql: interactions that are replaced by newer versions of
-- themselves. A meeting is known by its iCalendar UID (and occurrence),
-- and is sent again whenever it changes: rescheduled, its text edited,
-- attendees answering, cancelled. The newer version must change the
-- existing interaction, never add a second one, and never lose it.
--
-- The store knows nothing of iCalendar: it is handed a revision (a
-- meeting's SEQUENCE) and a fingerprint (a hash of what the CRM shows),
-- kept next to the dedup key.

ALTER TABLE ingest_keys ADD COLUMN revision BIGINT;
ALTER TABLE ingest_keys ADD COLUMN fingerprint TEXT;

-- Store an interaction, or replace the one stored under the same key:
-- - key unknown: stored as crmgate_store_interaction() does;
-- - key known, and p_revision lower, or the same fingerprint: nothing is
--   written (NULL, a duplicate); a higher revision with the same
--   fingerprint is recorded, as there is nothing else to change;
-- - key known, p_revision higher or equal, fingerprint different: the
--   interaction is replaced and keeps its id. It is deleted and stored
--   anew (the delete trigger of 002 takes its participants and document
--   links along) so that participants are matched exactly as for a new
--   one, its month partition follows the new date, and an embedding job
--   is queued for the new text; then the new rows take the old id.
--   Pending embedding jobs of the old text are dropped: their vector
--   would be stale.
-- Returns the interaction's id when it was stored or replaced.
CREATE FUNCTION crmgate_store_revision(
   p_workspace_id uuid, p_dedup_key text, p_source text, p_type interaction_type,
   p_interacted_at timestamptz, p_content text, p_metadata jsonb, p_parties jsonb,
   p_documents jsonb, p_create_accounts boolean, p_embed_text text,
   p_revision bigint, p_fingerprint text) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
   v_key record;
   v_id uuid;
   v_new uuid;
BEGIN
   -- FOR UPDATE: two writers with two versions of one meeting take turns
   SELECT interaction_id, interacted_at, revision, fingerprint, created_at INTO v_key
     FROM ingest_keys
    WHERE workspace_id = p_workspace_id AND dedup_key = p_dedup_key
      FOR UPDATE;
   IF NOT FOUND THEN
      v_id := crmgate_store_interaction(p_workspace_id, p_dedup_key, p_source, p_type,
                                        p_interacted_at, p_content, p_metadata, p_parties,
                                        p_documents, p_create_accounts, p_embed_text);
      IF v_id IS NOT NULL THEN
         UPDATE ingest_keys SET revision = p_revision, fingerprint = p_fingerprint
          WHERE workspace_id = p_workspace_id AND dedup_key = p_dedup_key;
      END IF;
      RETURN v_id;
   END IF;

   IF p_revision < coalesce(v_key.revision, -1) THEN
      RETURN NULL;		-- an older version arriving late
   END IF;
   IF v_key.fingerprint IS NOT DISTINCT FROM p_fingerprint THEN
      IF p_revision > coalesce(v_key.revision, -1) THEN
         UPDATE ingest_keys SET revision = p_revision
          WHERE workspace_id = p_workspace_id AND dedup_key = p_dedup_key;
      END IF;
      RETURN NULL;
   END IF;

   v_id := v_key.interaction_id;
   DELETE FROM embedding_jobs
    WHERE target_table = 'interactions' AND target_id = v_id AND status = 'pending';
   DELETE FROM interactions WHERE id = v_id AND interacted_at = v_key.interacted_at;
   DELETE FROM ingest_keys WHERE workspace_id = p_workspace_id AND dedup_key = p_dedup_key;

   v_new := crmgate_store_interaction(p_workspace_id, p_dedup_key, p_source, p_type,
                                      p_interacted_at, p_content,
                                      p_metadata || jsonb_build_object(
                                         'replaced_at', now(),
                                         'replaced_revision', v_key.revision),
                                      p_parties, p_documents, p_create_accounts, p_embed_text);
   UPDATE interactions SET id = v_id WHERE id = v_new AND interacted_at = p_interacted_at;
   UPDATE interaction_participants SET interaction_id = v_id WHERE interaction_id = v_new;
   UPDATE interaction_documents SET interaction_id = v_id WHERE interaction_id = v_new;
   UPDATE embedding_jobs SET target_id = v_id
    WHERE target_table = 'interactions' AND target_id = v_new;
   UPDATE ingest_keys
      SET interaction_id = v_id, revision = p_revision, fingerprint = p_fingerprint,
          created_at = v_key.created_at
    WHERE workspace_id = p_workspace_id AND dedup_key = p_dedup_key;
   RETURN v_id;
END $$;
