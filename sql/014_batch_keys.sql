-- 014_batch_keys.sql: the gateway's own tables checked once per
-- statement, not once per row.
--
-- A foreign key checks every inserted row with a query of its own (an
-- executor started, an index probed, the key row locked). In crmgate
-- ingest those checks were a fifth of the database's work, and most of
-- them were for rows of interaction_participants (three keys each),
-- ingest_keys and embedding_jobs: tables only crmgate writes, many rows
-- a statement, naming the same workspace and a few contacts over and
-- over. Their keys become statement triggers that do what the keys did:
--   - after INSERT, the rows named (each once) are locked FOR KEY SHARE,
--     the lock a key check takes, so none can be deleted before the
--     writer commits; one that is gone fails the statement with SQLSTATE
--     23503 (foreign_key_violation), as the key did; after UPDATE, as a
--     key does, only the values the statement brought in;
--   - after DELETE of a workspace, contact or user, the rows naming it
--     are deleted (or their user_id set NULL), as ON DELETE did.
-- Like a key's triggers they run as the tables' owner, so row-level
-- security (007) neither hides a key row nor stops a cascade.
--
-- With its key gone, the B-tree on interaction_participants.workspace_id
-- served nothing a query asks (a workspace's participants are reached
-- through their interactions or contacts; a workspace's delete finds
-- them through its interactions, whose delete trigger takes them along).
-- contact_id and user_id are never both set: each index now holds only
-- the rows that have its column.

ALTER TABLE interaction_participants
   DROP CONSTRAINT interaction_participants_workspace_id_fkey,
   DROP CONSTRAINT interaction_participants_contact_id_fkey,
   DROP CONSTRAINT interaction_participants_user_id_fkey;
ALTER TABLE ingest_keys DROP CONSTRAINT ingest_keys_workspace_id_fkey;
ALTER TABLE embedding_jobs DROP CONSTRAINT embedding_jobs_workspace_id_fkey;

DROP INDEX idx_interaction_participants_workspace_id;
DROP INDEX idx_interaction_participants_contact_id;
DROP INDEX idx_interaction_participants_user_id;
CREATE INDEX idx_interaction_participants_contact_id ON interaction_participants(contact_id)
   WHERE contact_id IS NOT NULL;
CREATE INDEX idx_interaction_participants_user_id ON interaction_participants(user_id)
   WHERE user_id IS NOT NULL;

-- Lock FOR KEY SHARE the rows of p_table (workspaces, contacts or users)
-- with ids p_ids (distinct); fail as a foreign key would when one is gone.
CREATE FUNCTION crmgate_key_share(p_referrer text, p_table text, p_ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
   v_found bigint;
   v_missing uuid;
BEGIN
   IF coalesce(cardinality(p_ids), 0) = 0 THEN
      RETURN;
   END IF;
   -- one static statement per table: plans are cached, ids probe the key
   CASE p_table
   WHEN 'workspaces' THEN
      SELECT count(*) INTO v_found
        FROM (SELECT 1 FROM workspaces x WHERE x.id = ANY (p_ids) FOR KEY SHARE OF x) l;
   WHEN 'contacts' THEN
      SELECT count(*) INTO v_found
        FROM (SELECT 1 FROM contacts x WHERE x.id = ANY (p_ids) FOR KEY SHARE OF x) l;
   WHEN 'users' THEN
      SELECT count(*) INTO v_found
        FROM (SELECT 1 FROM users x WHERE x.id = ANY (p_ids) FOR KEY SHARE OF x) l;
   END CASE;
   IF v_found < cardinality(p_ids) THEN
      EXECUTE format('SELECT i FROM unnest($1) AS i WHERE NOT EXISTS '
                     '(SELECT 1 FROM %I x WHERE x.id = i) LIMIT 1', p_table)
         INTO v_missing USING p_ids;
      RAISE EXCEPTION 'insert or update on table "%" names %.id %, which is not present',
                      p_referrer, p_table, v_missing
         USING ERRCODE = 'foreign_key_violation', TABLE = p_referrer;
   END IF;
END $$;

-- The transition tables: new_rows, and old_rows for UPDATE (a value
-- already there before the statement is not checked again: the meeting
-- merge moving rows to another interaction, a user's rows losing it).
CREATE FUNCTION crmgate_participants_keys() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
   v_workspaces uuid[];
   v_contacts uuid[];
   v_users uuid[];
BEGIN
   IF TG_OP = 'INSERT' THEN
      SELECT array_agg(DISTINCT workspace_id),
             array_agg(DISTINCT contact_id) FILTER (WHERE contact_id IS NOT NULL),
             array_agg(DISTINCT user_id) FILTER (WHERE user_id IS NOT NULL)
        INTO v_workspaces, v_contacts, v_users
        FROM new_rows;
   ELSE
      v_workspaces := ARRAY(SELECT workspace_id FROM new_rows
                            EXCEPT SELECT workspace_id FROM old_rows);
      v_contacts := ARRAY(SELECT contact_id FROM new_rows WHERE contact_id IS NOT NULL
                          EXCEPT SELECT contact_id FROM old_rows);
      v_users := ARRAY(SELECT user_id FROM new_rows WHERE user_id IS NOT NULL
                       EXCEPT SELECT user_id FROM old_rows);
   END IF;
   PERFORM crmgate_key_share(TG_TABLE_NAME, 'workspaces', v_workspaces);
   PERFORM crmgate_key_share(TG_TABLE_NAME, 'contacts', v_contacts);
   PERFORM crmgate_key_share(TG_TABLE_NAME, 'users', v_users);
   RETURN NULL;
END $$;

CREATE FUNCTION crmgate_workspace_key() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
   IF TG_OP = 'INSERT' THEN
      PERFORM crmgate_key_share(TG_TABLE_NAME, 'workspaces',
                                ARRAY(SELECT DISTINCT workspace_id FROM new_rows));
   ELSE
      PERFORM crmgate_key_share(TG_TABLE_NAME, 'workspaces',
                                ARRAY(SELECT workspace_id FROM new_rows
                                      EXCEPT SELECT workspace_id FROM old_rows));
   END IF;
   RETURN NULL;
END $$;

-- A statement trigger with transition tables fires for one event only:
-- each table gets one for INSERT and one for UPDATE.
DO $$
DECLARE
   t record;
   v_event text;
BEGIN
   FOR t IN SELECT * FROM (VALUES
         ('interaction_participants', 'participants_keys', 'crmgate_participants_keys'),
         ('ingest_keys', 'ingest_keys_workspace', 'crmgate_workspace_key'),
         ('embedding_jobs', 'embedding_jobs_workspace', 'crmgate_workspace_key'))
         AS v(tab, name, fn)
   LOOP
      FOREACH v_event IN ARRAY ARRAY['insert', 'update'] LOOP
         EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I REFERENCING %s NEW TABLE AS new_rows '
                        'FOR EACH STATEMENT EXECUTE FUNCTION %I()',
                        t.name || '_' || v_event, upper(v_event), t.tab,
                        CASE v_event WHEN 'update' THEN 'OLD TABLE AS old_rows' ELSE '' END, t.fn);
      END LOOP;
   END LOOP;
END $$;

-- What ON DELETE CASCADE / SET NULL did.
CREATE FUNCTION crmgate_workspace_deleted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
   v_ids uuid[] := (SELECT array_agg(id) FROM old_rows);
BEGIN
   DELETE FROM ingest_keys WHERE workspace_id = ANY (v_ids);
   DELETE FROM embedding_jobs WHERE workspace_id = ANY (v_ids);
   -- normally gone already, with their interactions
   DELETE FROM interaction_participants WHERE workspace_id = ANY (v_ids);
   RETURN NULL;
END $$;

CREATE FUNCTION crmgate_contact_deleted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
   DELETE FROM interaction_participants
    WHERE contact_id = ANY ((SELECT array_agg(id) FROM old_rows)::uuid[]);
   RETURN NULL;
END $$;

CREATE FUNCTION crmgate_user_deleted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
   UPDATE interaction_participants SET user_id = NULL
    WHERE user_id = ANY ((SELECT array_agg(id) FROM old_rows)::uuid[]);
   RETURN NULL;
END $$;

CREATE TRIGGER workspaces_gateway_cascade AFTER DELETE ON workspaces
   REFERENCING OLD TABLE AS old_rows
   FOR EACH STATEMENT EXECUTE FUNCTION crmgate_workspace_deleted();
CREATE TRIGGER contacts_participants_cascade AFTER DELETE ON contacts
   REFERENCING OLD TABLE AS old_rows
   FOR EACH STATEMENT EXECUTE FUNCTION crmgate_contact_deleted();
CREATE TRIGGER users_participants_set_null AFTER DELETE ON users
   REFERENCING OLD TABLE AS old_rows
   FOR EACH STATEMENT EXECUTE FUNCTION crmgate_user_deleted();

-- Generic plans: the batch's statements read parameter arrays whose size
-- the planner cannot use (012 asks for hash joins instead), so a custom
-- plan per call only repeats the planning.
ALTER FUNCTION crmgate_store_batch(uuid, boolean, text[], text[], text[], bigint[], text[],
                                   text[], text[], text[], text[])
   SET plan_cache_mode = force_generic_plan;
