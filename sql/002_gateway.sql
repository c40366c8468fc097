-- 002_gateway.sql: what the ingestion gateway adds to the seed schema.
-- New tables only (the seed's tables keep their shape), and the SQL
-- functions the store calls: storing one interaction is one statement,
-- so a batch of mail is one round trip (src/store.c).

-- The CLI names workspaces, so names are unique.
CREATE UNIQUE INDEX workspaces_name_key ON workspaces(name);

-- The workspace's own mail domains: their addresses are colleagues.
CREATE TABLE workspace_domains (
   workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   domain TEXT NOT NULL CHECK (domain = lower(domain)),
   created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
   PRIMARY KEY (workspace_id, domain)
);

-- Which account owns which registrable domain; an account may own several.
CREATE TABLE account_domains (
   workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   domain TEXT NOT NULL CHECK (domain = lower(domain)),
   account_id UUID NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
   created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
   PRIMARY KEY (workspace_id, domain)
);
CREATE INDEX idx_account_domains_account_id ON account_domains(account_id);

-- Idempotency keys ("mid:<Message-ID>", "sha256:<hex>", later event
-- UID + RECURRENCE-ID). Not partitioned: a UNIQUE constraint on the
-- partitioned interactions table would have to include the date, and a
-- mail re-read with another date must still be the same mail.
CREATE TABLE ingest_keys (
   workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   dedup_key TEXT NOT NULL,
   source TEXT NOT NULL,
   interaction_id UUID,
   interacted_at TIMESTAMPTZ,
   created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
   PRIMARY KEY (workspace_id, dedup_key)
);

CREATE TYPE participant_role AS ENUM ('from', 'to', 'cc', 'bcc', 'reply_to', 'organizer', 'attendee');

-- Everyone who took part in an interaction: a contact, or a user.
-- No foreign key to interactions: a key into a partitioned table is
-- checked through the parent, and measured at a third of the whole ingest
-- time. Rows here are written only by crmgate_store_interaction, in the
-- statement that writes their interaction, and removed with it by the
-- trigger at the end of this file.
CREATE TABLE interaction_participants (
   workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   interaction_id UUID NOT NULL,
   interacted_at TIMESTAMPTZ NOT NULL,
   contact_id UUID REFERENCES contacts(id) ON DELETE CASCADE,
   user_id UUID REFERENCES users(id) ON DELETE SET NULL,
   email TEXT NOT NULL,
   display_name TEXT,
   role participant_role NOT NULL,
   PRIMARY KEY (interaction_id, email, role)
);
-- contact and user ids are unique across workspaces: these serve both the
-- CRM's "touchpoints of X" and the foreign keys' cascades
CREATE INDEX idx_interaction_participants_workspace_id ON interaction_participants(workspace_id);
CREATE INDEX idx_interaction_participants_contact_id ON interaction_participants(contact_id);
CREATE INDEX idx_interaction_participants_user_id ON interaction_participants(user_id);

-- Attachments of an interaction (documents has no interaction column);
-- no key into interactions, for the reason given above.
CREATE TABLE interaction_documents (
   workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   interaction_id UUID NOT NULL,
   interacted_at TIMESTAMPTZ NOT NULL,
   document_id UUID NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
   PRIMARY KEY (interaction_id, document_id)
);
CREATE INDEX idx_interaction_documents_document_id ON interaction_documents(document_id);
CREATE INDEX idx_interaction_documents_workspace_id ON interaction_documents(workspace_id);

CREATE TYPE embedding_job_status AS ENUM ('pending', 'running', 'done', 'failed');

-- The embedding queue. General on purpose: any table's vector column
-- (contacts' and accounts' summary_embedding later) can be queued.
CREATE TABLE embedding_jobs (
   id BIGSERIAL PRIMARY KEY,
   workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   target_table TEXT NOT NULL CHECK (target_table IN ('interactions', 'notes', 'documents', 'contacts', 'accounts')),
   target_id UUID NOT NULL,
   target_at TIMESTAMPTZ,
   target_column TEXT NOT NULL DEFAULT 'embedding',
   -- NULL: the text to embed is the target row's own text (for
   -- interactions, content); stored here only when it differs, so a
   -- mail's body is not written, compressed and logged twice
   input_text TEXT,
   status embedding_job_status NOT NULL DEFAULT 'pending',
   attempts INT NOT NULL DEFAULT 0,
   last_error TEXT,
   claimed_by TEXT,
   lease_until TIMESTAMPTZ,
   created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
   updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_embedding_jobs_pending ON embedding_jobs(id) WHERE status = 'pending';
CREATE INDEX idx_embedding_jobs_workspace_status ON embedding_jobs(workspace_id, status);

-- Mail text is most of what crmgate writes; lz4 compresses it several
-- times faster than the default pglz (Debian's PostgreSQL is built with
-- lz4). Partitions created later take the parent's setting.
ALTER TABLE interactions ALTER COLUMN content SET COMPRESSION lz4;
ALTER TABLE interactions ALTER COLUMN metadata SET COMPRESSION lz4;
ALTER TABLE embedding_jobs ALTER COLUMN input_text SET COMPRESSION lz4;

-- The month partition holding p_at (UTC months), created when missing.
-- Indexes come from the parent, HNSW included. The advisory lock makes
-- two writers that meet a new month create it once.
CREATE FUNCTION crmgate_ensure_month_partition(p_at timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
   v_month timestamp := date_trunc('month', p_at AT TIME ZONE 'UTC');
   v_name text := 'interactions_y' || to_char(v_month, 'YYYY') || 'm' || to_char(v_month, 'MM');
BEGIN
   IF to_regclass(v_name) IS NOT NULL THEN
      RETURN v_name;
   END IF;
   PERFORM pg_advisory_xact_lock(7248190012);
   -- The writer that held the lock may have just created it; taking an
   -- advisory lock does not refresh this statement's view of the catalog,
   -- so "already exists" is the normal way to learn that.
   BEGIN
      EXECUTE format('CREATE TABLE %I PARTITION OF interactions FOR VALUES FROM (%L) TO (%L)',
                     v_name, v_month AT TIME ZONE 'UTC', (v_month + interval '1 month') AT TIME ZONE 'UTC');
   EXCEPTION WHEN duplicate_table THEN
      NULL;
   END;
   RETURN v_name;
END $$;

-- The account owning a registrable domain, created (when allowed) if none
-- does. Two writers racing on a new domain: the loser drops its account
-- and takes the winner's.
CREATE FUNCTION crmgate_account_for_domain(p_workspace_id uuid, p_domain text, p_name text,
                                           p_create boolean) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
   v_account uuid;
   v_new uuid;
BEGIN
   SELECT account_id INTO v_account FROM account_domains
    WHERE workspace_id = p_workspace_id AND domain = p_domain;
   IF FOUND OR NOT p_create THEN
      RETURN v_account;
   END IF;
   INSERT INTO accounts (workspace_id, name, website)
   VALUES (p_workspace_id, coalesce(p_name, p_domain), p_domain) RETURNING id INTO v_new;
   INSERT INTO account_domains (workspace_id, domain, account_id)
   VALUES (p_workspace_id, p_domain, v_new) ON CONFLICT DO NOTHING;
   IF FOUND THEN
      RETURN v_new;
   END IF;
   DELETE FROM accounts WHERE id = v_new;
   SELECT account_id INTO v_account FROM account_domains
    WHERE workspace_id = p_workspace_id AND domain = p_domain;
   RETURN v_account;
END $$;

-- Store one interaction with its participants, documents and embedding
-- job. Returns its id, or NULL when the dedup key is known (a duplicate:
-- nothing is written). p_parties: [{email, display_name, first_name,
-- last_name, role, user_id, internal, account_domain, account_name,
-- primary, acting_user}], plus at most one {acting_only, user_id} for a
-- user credited without taking part; p_documents: [{file_name, file_path,
-- mime_type, size}]. The caller has ensured the month's partition.
CREATE FUNCTION crmgate_store_interaction(
   p_workspace_id uuid, p_dedup_key text, p_source text, p_type interaction_type,
   p_interacted_at timestamptz, p_content text, p_metadata jsonb, p_parties jsonb,
   p_documents jsonb, p_create_accounts boolean, p_embed_text text) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
   v_id uuid := gen_random_uuid();
   v_party jsonb;
   v_email text;
   v_domain text;
   v_first text;
   v_last text;
   v_contact uuid;
   v_account uuid;
   v_cur record;
   v_primary_contact uuid;
   v_primary_account uuid;
   v_user uuid;
   v_seen_emails text[] := '{}';
   v_seen_contacts uuid[] := '{}';
   v_seen_accounts uuid[] := '{}';
   v_pos int;
   p_emails text[] := '{}';
   p_names text[] := '{}';
   p_roles participant_role[] := '{}';
   p_contacts uuid[] := '{}';
   p_users uuid[] := '{}';
   v_doc jsonb;
   v_doc_id uuid;
BEGIN
   INSERT INTO ingest_keys (workspace_id, dedup_key, source, interaction_id, interacted_at)
   VALUES (p_workspace_id, p_dedup_key, p_source, v_id, p_interacted_at)
   ON CONFLICT DO NOTHING;
   IF NOT FOUND THEN
      RETURN NULL;
   END IF;

   FOR v_party IN SELECT value FROM jsonb_array_elements(coalesce(p_parties, '[]'::jsonb)) LOOP
      -- the user to credit who took no part (who forwarded the mail)
      IF coalesce((v_party->>'acting_only')::boolean, false) THEN
         v_user := coalesce(v_user, (v_party->>'user_id')::uuid);
         CONTINUE;
      END IF;
      v_email := v_party->>'email';
      v_contact := NULL;
      v_account := NULL;
      IF NOT coalesce((v_party->>'internal')::boolean, false) THEN
         v_pos := array_position(v_seen_emails, v_email);
         IF v_pos IS NOT NULL THEN
            v_contact := v_seen_contacts[v_pos];
            v_account := v_seen_accounts[v_pos];
         ELSE
            v_domain := v_party->>'account_domain';
            v_first := v_party->>'first_name';
            v_last := v_party->>'last_name';
            SELECT id, first_name, last_name, account_id INTO v_cur
              FROM contacts WHERE workspace_id = p_workspace_id AND email = v_email;
            IF NOT FOUND THEN
               IF v_domain IS NOT NULL THEN
                  v_account := crmgate_account_for_domain(p_workspace_id, v_domain,
                                                          v_party->>'account_name', p_create_accounts);
               END IF;
               INSERT INTO contacts (workspace_id, email, first_name, last_name, account_id)
               VALUES (p_workspace_id, v_email, v_first, v_last, v_account)
               ON CONFLICT ON CONSTRAINT unique_contact_email_in_workspace DO NOTHING
               RETURNING id INTO v_contact;
               IF v_contact IS NULL THEN
                  SELECT id, account_id INTO v_contact, v_account FROM contacts
                   WHERE workspace_id = p_workspace_id AND email = v_email;
               END IF;
            ELSE
               v_contact := v_cur.id;
               v_account := v_cur.account_id;
               IF v_account IS NULL AND v_domain IS NOT NULL THEN
                  v_account := crmgate_account_for_domain(p_workspace_id, v_domain,
                                                          v_party->>'account_name', p_create_accounts);
               END IF;
               -- never worse data: fill only what is empty, and a name
               -- only when the contact has none (no Cher + Smith mixes)
               IF (v_cur.account_id IS NULL AND v_account IS NOT NULL) OR
                  (v_cur.first_name IS NULL AND v_cur.last_name IS NULL AND
                   (v_first IS NOT NULL OR v_last IS NOT NULL)) THEN
                  UPDATE contacts
                     SET account_id = coalesce(account_id, v_account),
                         first_name = CASE WHEN first_name IS NULL AND last_name IS NULL THEN v_first ELSE first_name END,
                         last_name = CASE WHEN first_name IS NULL AND last_name IS NULL THEN v_last ELSE last_name END,
                         updated_at = now()
                   WHERE id = v_contact;
               END IF;
            END IF;
            v_seen_emails := v_seen_emails || v_email;
            v_seen_contacts := v_seen_contacts || v_contact;
            v_seen_accounts := v_seen_accounts || v_account;
         END IF;
         IF coalesce((v_party->>'primary')::boolean, false) AND v_primary_contact IS NULL THEN
            v_primary_contact := v_contact;
            v_primary_account := v_account;
         END IF;
      END IF;
      IF coalesce((v_party->>'acting_user')::boolean, false) THEN
         v_user := (v_party->>'user_id')::uuid;
      END IF;
      p_emails := p_emails || v_email;
      p_names := p_names || (v_party->>'display_name');
      p_roles := p_roles || (v_party->>'role')::participant_role;
      p_contacts := p_contacts || v_contact;
      p_users := p_users || (v_party->>'user_id')::uuid;
   END LOOP;

   INSERT INTO interactions (id, workspace_id, contact_id, account_id, user_id, type,
                             content, interacted_at, metadata)
   VALUES (v_id, p_workspace_id, v_primary_contact, v_primary_account, v_user, p_type,
           p_content, p_interacted_at, p_metadata);

   INSERT INTO interaction_participants (workspace_id, interaction_id, interacted_at,
                                         contact_id, user_id, email, display_name, role)
   SELECT p_workspace_id, v_id, p_interacted_at, c, u, e, n, r
     FROM unnest(p_contacts, p_users, p_emails, p_names, p_roles) AS t(c, u, e, n, r)
   ON CONFLICT DO NOTHING;

   FOR v_doc IN SELECT value FROM jsonb_array_elements(coalesce(p_documents, '[]'::jsonb)) LOOP
      INSERT INTO documents (workspace_id, file_name, file_path, mime_type, file_size_bytes,
                             uploaded_by_id, contact_id, account_id)
      VALUES (p_workspace_id, v_doc->>'file_name', v_doc->>'file_path', v_doc->>'mime_type',
              (v_doc->>'size')::bigint, v_user, v_primary_contact, v_primary_account)
      RETURNING id INTO v_doc_id;
      INSERT INTO interaction_documents (workspace_id, interaction_id, interacted_at, document_id)
      VALUES (p_workspace_id, v_id, p_interacted_at, v_doc_id);
   END LOOP;

   IF p_embed_text IS NOT NULL AND p_embed_text <> '' THEN
      INSERT INTO embedding_jobs (workspace_id, target_table, target_id, target_at, input_text)
      VALUES (p_workspace_id, 'interactions', v_id, p_interacted_at,
              CASE WHEN p_embed_text = p_content THEN NULL ELSE p_embed_text END);
   END IF;
   RETURN v_id;
END $$;

-- A bounce says the address fails: note it on the contact, if there is one.
CREATE FUNCTION crmgate_mark_bounce(p_workspace_id uuid, p_email text, p_status text,
                                    p_diagnostic text, p_at timestamptz) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
   UPDATE contacts
      SET custom_fields = coalesce(custom_fields, '{}'::jsonb) ||
             jsonb_build_object('email_bounced', jsonb_build_object(
                'status', p_status, 'diagnostic', p_diagnostic, 'bounced_at', p_at)),
          updated_at = now()
    WHERE workspace_id = p_workspace_id AND email = lower(p_email);
   RETURN FOUND;
END $$;

-- What a foreign key's ON DELETE CASCADE would do for the two tables
-- above: an interaction deleted (or its partition's rows) takes its
-- participants and document links along.
CREATE FUNCTION crmgate_interaction_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
   DELETE FROM interaction_participants WHERE interaction_id = OLD.id;
   DELETE FROM interaction_documents WHERE interaction_id = OLD.id;
   RETURN OLD;
END $$;

CREATE TRIGGER interactions_cascade_delete AFTER DELETE ON interactions
   FOR EACH ROW EXECUTE FUNCTION crmgate_interaction_deleted();
