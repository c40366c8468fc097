-- 017_people_first.sql: a batch's new contacts and accounts committed
-- before the rest of it.
--
-- Over two connections (crmgate ingest) neighbouring batches met at the
-- contacts: a batch creating a contact that the batch before it had just
-- created waited, at its contacts insert, for that whole batch to
-- commit - 20 to 180 ms a batch, through the whole import, with a core
-- idle meanwhile (measured: an import into contacts that all existed
-- took 5.6-6.6 s instead of 7.0-7.3 s).
--
-- crmgate_store_batch() (012) is cut into its steps: the dedup keys
-- (crmgate_batch_keys), the people step - parties read, contacts and
-- accounts looked up and made (crmgate_batch_people) - and the rows
-- (crmgate_batch_write). It runs them as before, in one transaction.
-- The procedure crmgate_store_batch_people_first() runs the people step
-- on the items that are new, commits, and then stores the batch in a
-- second transaction; the neighbouring batch then meets committed
-- contacts and waits for nobody. Each step runs once, so the batch gives
-- the rows crmgate_store_batch() gives. What the first transaction made
-- stays if the second fails, as if an earlier mail had named it (the
-- items are then stored one by one, and meet it as existing).

-- The steps run under their caller's settings: crmgate_store_batch()
-- carries them, the procedure sets them in each of its transactions
-- (crmgate_scope_batch()).
CREATE TYPE crmgate_batch_people AS (
   party crmgate_batch_party[],	-- every party of every item
   occ crmgate_batch_party[],	-- the external ones, first appearance per item, seq set
   cx_email text[],		-- contacts that existed before the batch
   cx_id uuid[],
   cx_account uuid[],
   ax_domain text[],		-- accounts that owned a domain before it
   ax_account uuid[],
   nd_domain text[],		-- domains given an account by this batch
   nd_seq bigint[],		-- ... at which party
   nd_account uuid[],
   nc_email text[],		-- contacts created by this batch
   nc_seq bigint[],		-- ... at which party
   nc_id uuid[],
   nc_account uuid[]);

-- The dedup step: the first item of each new key is stored; its key row
-- is written, with the interaction's id. NULLs when none is new.
CREATE FUNCTION crmgate_batch_keys(
   p_workspace_id uuid, p_keys text[], p_sources text[], p_at bigint[],
   OUT items int[], OUT ids uuid[])
LANGUAGE plpgsql
AS $$
BEGIN
   WITH f AS (
      SELECT DISTINCT ON (p_keys[i]) i, p_keys[i] AS k
        FROM generate_subscripts(p_keys, 1) AS i
       ORDER BY p_keys[i], i),
   ins AS (
      INSERT INTO ingest_keys (workspace_id, dedup_key, source, interaction_id, interacted_at)
      SELECT p_workspace_id, f.k, p_sources[f.i], gen_random_uuid(), to_timestamp(p_at[f.i])
        FROM f
      ON CONFLICT DO NOTHING
      RETURNING dedup_key, interaction_id)
   SELECT array_agg(f.i ORDER BY f.i), array_agg(ins.interaction_id ORDER BY f.i)
     INTO items, ids
     FROM ins JOIN f ON f.k = ins.dedup_key;
END $$;

-- The people step for the items p_items (1-based into p_parties), in order.
CREATE FUNCTION crmgate_batch_people(
   p_workspace_id uuid, p_create_accounts boolean, p_items int[], p_parties text[],
   OUT party crmgate_batch_party[], OUT occ crmgate_batch_party[],
   OUT cx_email text[], OUT cx_id uuid[], OUT cx_account uuid[],
   OUT ax_domain text[], OUT ax_account uuid[],
   OUT nd_domain text[], OUT nd_seq bigint[], OUT nd_account uuid[],
   OUT nc_email text[], OUT nc_seq bigint[], OUT nc_id uuid[], OUT nc_account uuid[])
LANGUAGE plpgsql
AS $$
DECLARE
   v_want int;
BEGIN
   SELECT array_agg(ROW(n.i, e.pos, e.v->>'email', e.v->>'display_name', e.v->>'first_name',
                        e.v->>'last_name', (e.v->>'role')::participant_role, (e.v->>'user_id')::uuid,
                        coalesce((e.v->>'internal')::boolean, false), e.v->>'account_domain',
                        e.v->>'account_name', coalesce((e.v->>'primary')::boolean, false),
                        coalesce((e.v->>'acting_user')::boolean, false),
                        coalesce((e.v->>'acting_only')::boolean, false),
                        coalesce((e.v->>'person')::boolean, true),
                        coalesce((e.v->>'person')::boolean, true) AND
                        coalesce((e.v->>'create')::boolean, true), NULL)::crmgate_batch_party
                    ORDER BY n.i, e.pos)
     INTO party
     FROM unnest(p_items) AS n(i),
          jsonb_array_elements(coalesce(p_parties[n.i]::jsonb, '[]'::jsonb)) WITH ORDINALITY AS e(v, pos);

   -- a party named twice in one item counts once, as its first appearance
   SELECT array_agg(ROW(p.item, p.pos, p.email, p.display_name, p.first_name, p.last_name, p.role,
                        p.user_id, p.internal, p.domain, p.account_name, p.is_primary,
                        p.acting_user, p.acting_only, p.person, p.may_create,
                        p.n)::crmgate_batch_party
                    ORDER BY p.item, p.pos)
     INTO occ
     FROM (SELECT f.*, row_number() OVER (ORDER BY f.item, f.pos) AS n
             FROM (SELECT DISTINCT ON (q.item, q.email) q.*
                     FROM unnest(party) AS q
                    WHERE NOT q.internal AND NOT q.acting_only AND q.email IS NOT NULL
                    ORDER BY q.item, q.email, q.pos) f) p;

   SELECT array_agg(e.email), array_agg(c.id), array_agg(c.account_id)
     INTO cx_email, cx_id, cx_account
     FROM (SELECT DISTINCT o.email FROM unnest(occ) AS o) e
     CROSS JOIN LATERAL (SELECT c.id, c.account_id FROM contacts c
                          WHERE c.workspace_id = p_workspace_id AND c.email = e.email
                          LIMIT 1) c;
   SELECT array_agg(e.domain), array_agg(d.account_id)
     INTO ax_domain, ax_account
     FROM (SELECT DISTINCT o.domain FROM unnest(occ) AS o WHERE o.domain IS NOT NULL) e
     CROSS JOIN LATERAL (SELECT d.account_id FROM account_domains d
                          WHERE d.workspace_id = p_workspace_id AND d.domain = e.domain
                          LIMIT 1) d;

   -- Accounts: a party would create its domain's account (when the
   -- workspace lets it) if it is a role address, an existing contact
   -- without one, or a contact it may create. The first such party of
   -- an unowned domain creates it; crmgate_account_for_domain settles a
   -- race with another writer.
   IF p_create_accounts THEN
      SELECT array_agg(t.domain), array_agg(t.seq),
             array_agg(crmgate_account_for_domain(p_workspace_id, t.domain, t.account_name, true))
        INTO nd_domain, nd_seq, nd_account
        FROM (SELECT DISTINCT ON (o.domain) o.domain, o.account_name, o.seq
                FROM unnest(occ) AS o
                LEFT JOIN unnest(cx_email, cx_account) AS cx(email, account_id)
                       ON cx.email = o.email
                LEFT JOIN unnest(ax_domain) AS ax(domain) ON ax.domain = o.domain
               WHERE o.domain IS NOT NULL AND ax.domain IS NULL
                 AND (NOT o.person OR (cx.email IS NOT NULL AND cx.account_id IS NULL)
                      OR (cx.email IS NULL AND o.may_create))
               ORDER BY o.domain, o.seq) t;
   END IF;

   -- Contacts: created at the first party allowed to, named after the
   -- first party from there on that has a name, with the account its
   -- domain has at that point.
   WITH created AS (
      SELECT DISTINCT ON (o.email) o.email, o.domain, o.seq
        FROM unnest(occ) AS o
        LEFT JOIN unnest(cx_email) AS cx(email) ON cx.email = o.email
       WHERE o.may_create AND cx.email IS NULL
       ORDER BY o.email, o.seq),
   named AS (
      SELECT DISTINCT ON (o.email) o.email, o.first_name, o.last_name
        FROM unnest(occ) AS o JOIN created c ON c.email = o.email
       WHERE o.seq >= c.seq AND (o.first_name IS NOT NULL OR o.last_name IS NOT NULL)
       ORDER BY o.email, o.seq),
   cand AS (
      SELECT c.email, c.seq, n.first_name, n.last_name,
             coalesce(ax.account_id, CASE WHEN c.seq >= nd.seq THEN nd.account_id END) AS account_id
        FROM created c
        LEFT JOIN named n ON n.email = c.email
        LEFT JOIN unnest(ax_domain, ax_account) AS ax(domain, account_id) ON ax.domain = c.domain
        LEFT JOIN unnest(nd_domain, nd_seq, nd_account) AS nd(domain, seq, account_id)
               ON nd.domain = c.domain),
   ins AS (
      INSERT INTO contacts (workspace_id, email, first_name, last_name, account_id)
      SELECT p_workspace_id, email, first_name, last_name, account_id FROM cand ORDER BY email
      ON CONFLICT ON CONSTRAINT unique_contact_email_in_workspace DO NOTHING
      RETURNING email, id, account_id)
   SELECT array_agg(c.email), array_agg(c.seq), array_agg(ins.id), array_agg(ins.account_id),
          (SELECT count(*) FROM cand)
     INTO nc_email, nc_seq, nc_id, nc_account, v_want
     FROM cand c JOIN ins ON ins.email = c.email;

   -- Created by another writer since we looked: take theirs, as
   -- crmgate_store_interaction does.
   IF coalesce(cardinality(nc_email), 0) < v_want THEN
      SELECT nc_email || array_agg(m.email), nc_seq || array_agg(m.seq),
             nc_id || array_agg(c.id), nc_account || array_agg(c.account_id)
        INTO nc_email, nc_seq, nc_id, nc_account
        FROM (SELECT DISTINCT ON (o.email) o.email, o.seq
                FROM unnest(occ) AS o
                LEFT JOIN unnest(cx_email) AS cx(email) ON cx.email = o.email
                LEFT JOIN unnest(nc_email) AS nc(email) ON nc.email = o.email
               WHERE o.may_create AND cx.email IS NULL AND nc.email IS NULL
               ORDER BY o.email, o.seq) m
        CROSS JOIN LATERAL (SELECT c.id, c.account_id FROM contacts c
                             WHERE c.workspace_id = p_workspace_id AND c.email = m.email
                             LIMIT 1) c;
   END IF;
END $$;

-- The rows of the items p_items, with ids p_ids, their people found.
CREATE FUNCTION crmgate_batch_write(
   p_workspace_id uuid, p_types text[], p_at bigint[], p_contents text[], p_metadata text[],
   p_documents text[], p_embed text[], p_items int[], p_ids uuid[],
   p_people crmgate_batch_people)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
   v_link crmgate_batch_link[];
   v_main_contact uuid[];	-- per item, in p_items' order
   v_main_account uuid[];
   v_user uuid[];
BEGIN
   -- Every party (first appearance per item) to its contact and account.
   SELECT array_agg(ROW(o.item, o.email,
                        CASE WHEN cx.email IS NOT NULL THEN cx.id
                             WHEN o.seq >= nc.seq THEN nc.id END,
                        CASE WHEN cx.account_id IS NOT NULL THEN cx.account_id
                             WHEN cx.email IS NULL AND o.seq >= nc.seq THEN nc.account_id
                             WHEN o.domain IS NULL THEN NULL
                             ELSE coalesce(ax.account_id,
                                           CASE WHEN o.seq >= nd.seq THEN nd.account_id END)
                        END)::crmgate_batch_link)
     INTO v_link
     FROM unnest(p_people.occ) AS o
     LEFT JOIN unnest(p_people.cx_email, p_people.cx_id, p_people.cx_account)
               AS cx(email, id, account_id) ON cx.email = o.email
     LEFT JOIN unnest(p_people.nc_email, p_people.nc_seq, p_people.nc_id,
                      p_people.nc_account)
               AS nc(email, seq, id, account_id) ON nc.email = o.email
     LEFT JOIN unnest(p_people.ax_domain, p_people.ax_account)
               AS ax(domain, account_id) ON ax.domain = o.domain
     LEFT JOIN unnest(p_people.nd_domain, p_people.nd_seq, p_people.nd_account)
               AS nd(domain, seq, account_id) ON nd.domain = o.domain;

   -- Never worse data: an existing contact gets its domain's account if
   -- it had none, and the first name seen if it had none.
   IF p_people.cx_id IS NOT NULL THEN
      WITH fill AS (
         SELECT cx.id, f.account_id, n.first_name, n.last_name
           FROM unnest(p_people.cx_email, p_people.cx_id) AS cx(email, id)
           JOIN (SELECT DISTINCT ON (l.email) l.email, l.account_id
                   FROM unnest(v_link) AS l ORDER BY l.email, l.item) f ON f.email = cx.email
           LEFT JOIN (SELECT DISTINCT ON (o.email) o.email, o.first_name, o.last_name
                        FROM unnest(p_people.occ) AS o
                       WHERE o.first_name IS NOT NULL OR o.last_name IS NOT NULL
                       ORDER BY o.email, o.seq) n ON n.email = cx.email)
      UPDATE contacts c
         SET account_id = coalesce(c.account_id, fill.account_id),
             first_name = CASE WHEN c.first_name IS NULL AND c.last_name IS NULL
                               THEN fill.first_name ELSE c.first_name END,
             last_name = CASE WHEN c.first_name IS NULL AND c.last_name IS NULL
                              THEN fill.last_name ELSE c.last_name END,
             updated_at = now()
        FROM fill
       WHERE c.id = ANY (p_people.cx_id) AND c.id = fill.id
         AND ((c.account_id IS NULL AND fill.account_id IS NOT NULL) OR
              (c.first_name IS NULL AND c.last_name IS NULL AND
               (fill.first_name IS NOT NULL OR fill.last_name IS NOT NULL)));
   END IF;

   -- each item's main external party (any appearance may be the one
   -- marked, a repeat resolving as its first) and the user credited
   SELECT array_agg(pr.contact_id ORDER BY n.i), array_agg(pr.account_id ORDER BY n.i),
          array_agg(us.user_id ORDER BY n.i)
     INTO v_main_contact, v_main_account, v_user
     FROM unnest(p_items) AS n(i)
     LEFT JOIN (SELECT DISTINCT ON (q.item) q.item, l.contact_id, l.account_id
                  FROM unnest(p_people.party) AS q
                  JOIN unnest(v_link) AS l ON l.item = q.item AND l.email = q.email
                 WHERE q.is_primary AND NOT q.internal AND NOT q.acting_only
                 ORDER BY q.item, q.pos) pr ON pr.item = n.i
     LEFT JOIN (SELECT DISTINCT ON (q.item) q.item, q.user_id
                  FROM unnest(p_people.party) AS q
                 WHERE q.acting_user
                 ORDER BY q.item, q.pos DESC) us ON us.item = n.i;

   INSERT INTO interactions (id, workspace_id, contact_id, account_id, user_id, type,
                             content, interacted_at, metadata)
   SELECT n.id, p_workspace_id, n.contact_id, n.account_id, n.user_id,
          p_types[n.i]::interaction_type, p_contents[n.i], to_timestamp(p_at[n.i]),
          p_metadata[n.i]::jsonb
     FROM unnest(p_items, p_ids, v_main_contact, v_main_account, v_user)
          AS n(i, id, contact_id, account_id, user_id);

   -- the interactions are new: no row can conflict but a party named
   -- twice in one role, which DISTINCT drops (cheaper than ON CONFLICT)
   INSERT INTO interaction_participants (workspace_id, interaction_id, interacted_at,
                                         contact_id, user_id, email, display_name, role)
   SELECT DISTINCT ON (q.item, q.email, q.role)
          p_workspace_id, n.id, to_timestamp(p_at[n.i]),
          CASE WHEN q.internal THEN NULL ELSE l.contact_id END,
          q.user_id, q.email, q.display_name, q.role
     FROM unnest(p_people.party) AS q
     JOIN unnest(p_items, p_ids) AS n(i, id) ON n.i = q.item
     LEFT JOIN unnest(v_link) AS l ON l.item = q.item AND l.email = q.email
    WHERE NOT q.acting_only
    ORDER BY q.item, q.email, q.role, q.pos;

   IF EXISTS (SELECT 1 FROM unnest(p_documents) AS d WHERE d IS NOT NULL AND d <> '[]') THEN
      WITH doc AS MATERIALIZED (
         SELECT gen_random_uuid() AS id, n.i, n.id AS interaction_id, d.v, d.pos,
                n.contact_id, n.account_id, n.user_id
           FROM unnest(p_items, p_ids, v_main_contact, v_main_account, v_user)
                AS n(i, id, contact_id, account_id, user_id)
           CROSS JOIN LATERAL jsonb_array_elements(coalesce(p_documents[n.i]::jsonb, '[]'::jsonb))
                WITH ORDINALITY AS d(v, pos)),
      ins AS (
         INSERT INTO documents (id, workspace_id, file_name, file_path, mime_type,
                                file_size_bytes, uploaded_by_id, contact_id, account_id)
         SELECT id, p_workspace_id, v->>'file_name', v->>'file_path', v->>'mime_type',
                (v->>'size')::bigint, user_id, contact_id, account_id
           FROM doc ORDER BY i, pos)
      INSERT INTO interaction_documents (workspace_id, interaction_id, interacted_at, document_id)
      SELECT p_workspace_id, interaction_id, to_timestamp(p_at[i]), id FROM doc ORDER BY i, pos;
   END IF;

   INSERT INTO embedding_jobs (workspace_id, target_table, target_id, target_at, input_text)
   SELECT p_workspace_id, 'interactions', n.id, to_timestamp(p_at[n.i]),
          NULLIF(p_embed[n.i], '')
     FROM unnest(p_items, p_ids) AS n(i, id)
    WHERE p_embed[n.i] IS NOT NULL;
END $$;

CREATE OR REPLACE FUNCTION crmgate_store_batch(
   p_workspace_id uuid, p_create_accounts boolean, p_keys text[], p_sources text[],
   p_types text[], p_at bigint[], p_contents text[], p_metadata text[], p_parties text[],
   p_documents text[], p_embed text[])
RETURNS TABLE (stored_item int, stored_id uuid)
LANGUAGE plpgsql
SET enable_nestloop = off
SET jit = off
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
   v_items int[];
   v_ids uuid[];
   v_people crmgate_batch_people;
BEGIN
   SELECT k.items, k.ids INTO v_items, v_ids
     FROM crmgate_batch_keys(p_workspace_id, p_keys, p_sources, p_at) k;
   IF v_items IS NULL THEN
      RETURN;
   END IF;
   SELECT * INTO v_people
     FROM crmgate_batch_people(p_workspace_id, p_create_accounts, v_items, p_parties);
   PERFORM crmgate_batch_write(p_workspace_id, p_types, p_at, p_contents, p_metadata,
                               p_documents, p_embed, v_items, v_ids, v_people);
   RETURN QUERY SELECT n.i, n.id FROM unnest(v_items, v_ids) AS n(i, id);
END $$;

-- crmgate_store_batch() in two transactions: the people of the items
-- whose keys are new (each key's first), committed; then the keys and
-- the rows. Call it on its own, outside a transaction block. The
-- transactions run as crmgate_tenant in the workspace (007), as the
-- store's do. stored_items and stored_ids: what crmgate_store_batch()
-- returns, as arrays (NULL when nothing was new).
CREATE PROCEDURE crmgate_store_batch_people_first(
   p_workspace_id uuid, p_create_accounts boolean, p_keys text[], p_sources text[],
   p_types text[], p_at bigint[], p_contents text[], p_metadata text[], p_parties text[],
   p_documents text[], p_embed text[], INOUT stored_items int[], INOUT stored_ids uuid[])
LANGUAGE plpgsql
AS $$
DECLARE
   v_new int[];
   v_people crmgate_batch_people;
BEGIN
   stored_items := NULL;
   stored_ids := NULL;
   -- a procedure that commits may not carry SET clauses: each
   -- transaction scopes itself
   PERFORM crmgate_scope_batch(p_workspace_id);
   SELECT array_agg(f.i ORDER BY f.i)
     INTO v_new
     FROM (SELECT DISTINCT ON (p_keys[i]) i
             FROM generate_subscripts(p_keys, 1) AS i
            ORDER BY p_keys[i], i) f
     LEFT JOIN LATERAL (SELECT true AS known FROM ingest_keys k
                         WHERE k.workspace_id = p_workspace_id AND k.dedup_key = p_keys[f.i]
                         LIMIT 1) k ON true
    WHERE k.known IS NULL;
   IF v_new IS NULL THEN
      RETURN;
   END IF;
   SELECT * INTO v_people
     FROM crmgate_batch_people(p_workspace_id, p_create_accounts, v_new, p_parties);
   -- No wait for this commit's flush: nothing refers to these rows
   -- until a later commit, whose flush takes this one along (the log is
   -- written in order); lost in a crash before, they are made again.
   PERFORM set_config('synchronous_commit', 'off', true);
   COMMIT;

   PERFORM crmgate_scope_batch(p_workspace_id);
   SELECT k.items, k.ids INTO stored_items, stored_ids
     FROM crmgate_batch_keys(p_workspace_id, p_keys, p_sources, p_at) k;
   IF stored_items IS NULL THEN
      RETURN;
   END IF;
   -- another writer stored one of them in between: the people of the
   -- items left, found again (those made above are found existing)
   IF stored_items IS DISTINCT FROM v_new THEN
      SELECT * INTO v_people
        FROM crmgate_batch_people(p_workspace_id, p_create_accounts, stored_items, p_parties);
   END IF;
   PERFORM crmgate_batch_write(p_workspace_id, p_types, p_at, p_contents, p_metadata,
                               p_documents, p_embed, stored_items, stored_ids, v_people);
END $$;

-- The tenant scope of a transaction (007): it runs as crmgate_tenant,
-- confined to the workspace. The store opens each of its transactions
-- with it; the procedure above, whose transactions the store cannot
-- open, opens each with crmgate_scope_batch().
CREATE FUNCTION crmgate_tenant_scope(p_workspace_id uuid) RETURNS void
LANGUAGE sql AS $$
   SELECT set_config('role', 'crmgate_tenant', true),
          set_config('crmgate.workspace_id', p_workspace_id::text, true);
$$;

-- The tenant scope and the settings crmgate_store_batch() carries, for
-- the transaction that calls it.
CREATE FUNCTION crmgate_scope_batch(p_workspace_id uuid) RETURNS void
LANGUAGE sql AS $$
   SELECT crmgate_tenant_scope(p_workspace_id);
   SELECT set_config('enable_nestloop', 'off', true),
          set_config('jit', 'off', true),
          set_config('plan_cache_mode', 'force_generic_plan', true);
$$;
