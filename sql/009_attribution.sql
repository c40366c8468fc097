-- 009_attribution.sql: who becomes a contact.
--
-- - workspace_blocklist: addresses ("bob@x.example") and domains
--   ("@x.example", subdomains included) a workspace never wants in the
--   CRM: they create nothing and are no participants.
-- - workspace_freemail: the workspace's corrections to crmgate's built-in
--   free-mail list (freemail true: treat the domain as consumer mail,
--   false: as a company's even though the list names it).
-- - crmgate_store_interaction: a party may be linked but not created
--   (the source's contact policy), or be a role address (never a
--   contact, its domain still the account's).

CREATE TABLE workspace_blocklist (
   workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   entry text NOT NULL CHECK (entry = lower(entry) AND entry LIKE '%@%'),
   created_at timestamptz NOT NULL DEFAULT now(),
   PRIMARY KEY (workspace_id, entry)
);

CREATE TABLE workspace_freemail (
   workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   domain text NOT NULL CHECK (domain = lower(domain) AND domain NOT LIKE '%@%'),
   freemail boolean NOT NULL,
   PRIMARY KEY (workspace_id, domain)
);

-- the same confinement as every workspace table (007)
ALTER TABLE workspace_blocklist ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON workspace_blocklist USING (workspace_id = crmgate_current_workspace())
   WITH CHECK (workspace_id = crmgate_current_workspace());
ALTER TABLE workspace_freemail ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON workspace_freemail USING (workspace_id = crmgate_current_workspace())
   WITH CHECK (workspace_id = crmgate_current_workspace());

-- crmgate_store_interaction of 002, with two more keys per party:
--   create (default true): a contact may be created for the address;
--      false (the source's contact policy says no) only links an
--      existing contact, and finds (never creates) its account;
--   person (default true): false for a role or system address (info@,
--      noreply@): no contact is ever created for it, but its domain
--      still names the account, which the workspace's account policy
--      may create.
CREATE OR REPLACE FUNCTION crmgate_store_interaction(
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
   v_primary_done boolean := false;
   v_person boolean;
   v_may_create boolean;
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
            v_person := coalesce((v_party->>'person')::boolean, true);
            v_may_create := v_person AND coalesce((v_party->>'create')::boolean, true);
            v_first := v_party->>'first_name';
            v_last := v_party->>'last_name';
            SELECT id, first_name, last_name, account_id INTO v_cur
              FROM contacts WHERE workspace_id = p_workspace_id AND email = v_email;
            IF NOT FOUND AND NOT v_may_create THEN
               v_contact := NULL;
               IF v_domain IS NOT NULL THEN
                  v_account := crmgate_account_for_domain(p_workspace_id, v_domain,
                                                          v_party->>'account_name',
                                                          p_create_accounts AND NOT v_person);
               END IF;
            ELSIF NOT FOUND THEN
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
         IF coalesce((v_party->>'primary')::boolean, false) AND NOT v_primary_done THEN
            v_primary_contact := v_contact;
            v_primary_account := v_account;
            v_primary_done := true;
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
