-- 012_batch_store.sql: a batch of mail stored by one set-based call.
--
-- crmgate_store_interaction() (009) stores one interaction per call; a
-- batch of 256 mails costs about ten statements per mail, and most of
-- their cost is each statement's set-up (a partitioned INSERT opens the
-- partition and its nine indexes every time), not the rows.
-- crmgate_store_batch() stores the same rows for a whole batch with a
-- dozen statements in all. It gives what a run of
-- crmgate_store_interaction() calls in item order gives:
--   - an item whose dedup key is known, or repeats an earlier item's,
--     is a duplicate;
--   - a contact is created at the first party allowed to create it
--     (create and person); parties before it only link (none exists);
--   - an account is created for a domain at the first party that would
--     create it (see the triggers below); parties before it find none;
--   - a contact without a name takes the first name seen after it was
--     created; one without an account takes its domain's;
--   - a party's second appearance in one item repeats its first.
-- Meetings (replaced in place, crmgate_store_revision) are not stored
-- here.
--
-- Arguments are parallel arrays, one element per item, so that the
-- client sends them in binary without escaping mail text; p_at is unix
-- seconds; p_embed is the text to embed, '' when it is the content
-- itself, NULL for no embedding job. Returns the items stored (1-based)
-- with their new ids.

CREATE TYPE crmgate_batch_party AS (
   item int, pos bigint, email text, display_name text, first_name text, last_name text,
   role participant_role, user_id uuid, internal boolean, domain text, account_name text,
   is_primary boolean, acting_user boolean, acting_only boolean, person boolean,
   may_create boolean,
   seq bigint);			-- order among the external parties that count

-- What one party of one item resolved to.
CREATE TYPE crmgate_batch_link AS (item int, email text, contact_id uuid, account_id uuid);

-- Joins here are between sets held in arrays, whose size the planner
-- does not know (it guesses ten rows): a nested loop over two of them is
-- quadratic in the batch, so hash joins are asked for. Lookups into the
-- tables go through LATERAL, one index probe per address or domain.
-- JIT is off: the cost of a refused nested loop would make every
-- statement look worth compiling, 100 ms a time.
CREATE FUNCTION crmgate_store_batch(
   p_workspace_id uuid, p_create_accounts boolean, p_keys text[], p_sources text[],
   p_types text[], p_at bigint[], p_contents text[], p_metadata text[], p_parties text[],
   p_documents text[], p_embed text[])
RETURNS TABLE (stored_item int, stored_id uuid)
LANGUAGE plpgsql
SET enable_nestloop = off
SET jit = off
AS $$
DECLARE
   v_items int[];		-- the items to store, in order
   v_ids uuid[];
   v_party crmgate_batch_party[];	-- every party of every item
   v_occ crmgate_batch_party[];	-- the external ones, first appearance per item, seq set
   v_cx_email text[];		-- contacts that existed before the batch
   v_cx_id uuid[];
   v_cx_account uuid[];
   v_ax_domain text[];		-- accounts that owned a domain before it
   v_ax_account uuid[];
   v_nd_domain text[];		-- domains given an account by this batch
   v_nd_seq bigint[];		-- ... at which party
   v_nd_account uuid[];
   v_nc_email text[];		-- contacts created by this batch
   v_nc_seq bigint[];		-- ... at which party
   v_nc_id uuid[];
   v_nc_account uuid[];
   v_want int;
   v_link crmgate_batch_link[];
   v_main_contact uuid[];	-- per item, in v_items' order
   v_main_account uuid[];
   v_user uuid[];
BEGIN
   -- dedup: the first item of each new key is stored
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
     INTO v_items, v_ids
     FROM ins JOIN f ON f.k = ins.dedup_key;
   IF v_items IS NULL THEN
      RETURN;
   END IF;

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
     INTO v_party
     FROM unnest(v_items) AS n(i),
          jsonb_array_elements(coalesce(p_parties[n.i]::jsonb, '[]'::jsonb)) WITH ORDINALITY AS e(v, pos);

   -- a party named twice in one item counts once, as its first appearance
   SELECT array_agg(ROW(p.item, p.pos, p.email, p.display_name, p.first_name, p.last_name, p.role,
                        p.user_id, p.internal, p.domain, p.account_name, p.is_primary,
                        p.acting_user, p.acting_only, p.person, p.may_create,
                        p.n)::crmgate_batch_party
                    ORDER BY p.item, p.pos)
     INTO v_occ
     FROM (SELECT f.*, row_number() OVER (ORDER BY f.item, f.pos) AS n
             FROM (SELECT DISTINCT ON (q.item, q.email) q.*
                     FROM unnest(v_party) AS q
                    WHERE NOT q.internal AND NOT q.acting_only AND q.email IS NOT NULL
                    ORDER BY q.item, q.email, q.pos) f) p;

   SELECT array_agg(e.email), array_agg(c.id), array_agg(c.account_id)
     INTO v_cx_email, v_cx_id, v_cx_account
     FROM (SELECT DISTINCT o.email FROM unnest(v_occ) AS o) e
     CROSS JOIN LATERAL (SELECT c.id, c.account_id FROM contacts c
                          WHERE c.workspace_id = p_workspace_id AND c.email = e.email
                          LIMIT 1) c;
   SELECT array_agg(e.domain), array_agg(d.account_id)
     INTO v_ax_domain, v_ax_account
     FROM (SELECT DISTINCT o.domain FROM unnest(v_occ) AS o WHERE o.domain IS NOT NULL) e
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
        INTO v_nd_domain, v_nd_seq, v_nd_account
        FROM (SELECT DISTINCT ON (o.domain) o.domain, o.account_name, o.seq
                FROM unnest(v_occ) AS o
                LEFT JOIN unnest(v_cx_email, v_cx_account) AS cx(email, account_id)
                       ON cx.email = o.email
                LEFT JOIN unnest(v_ax_domain) AS ax(domain) ON ax.domain = o.domain
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
        FROM unnest(v_occ) AS o
        LEFT JOIN unnest(v_cx_email) AS cx(email) ON cx.email = o.email
       WHERE o.may_create AND cx.email IS NULL
       ORDER BY o.email, o.seq),
   named AS (
      SELECT DISTINCT ON (o.email) o.email, o.first_name, o.last_name
        FROM unnest(v_occ) AS o JOIN created c ON c.email = o.email
       WHERE o.seq >= c.seq AND (o.first_name IS NOT NULL OR o.last_name IS NOT NULL)
       ORDER BY o.email, o.seq),
   cand AS (
      SELECT c.email, c.seq, n.first_name, n.last_name,
             coalesce(ax.account_id, CASE WHEN c.seq >= nd.seq THEN nd.account_id END) AS account_id
        FROM created c
        LEFT JOIN named n ON n.email = c.email
        LEFT JOIN unnest(v_ax_domain, v_ax_account) AS ax(domain, account_id) ON ax.domain = c.domain
        LEFT JOIN unnest(v_nd_domain, v_nd_seq, v_nd_account) AS nd(domain, seq, account_id)
               ON nd.domain = c.domain),
   ins AS (
      INSERT INTO contacts (workspace_id, email, first_name, last_name, account_id)
      SELECT p_workspace_id, email, first_name, last_name, account_id FROM cand ORDER BY email
      ON CONFLICT ON CONSTRAINT unique_contact_email_in_workspace DO NOTHING
      RETURNING email, id, account_id)
   SELECT array_agg(c.email), array_agg(c.seq), array_agg(ins.id), array_agg(ins.account_id),
          (SELECT count(*) FROM cand)
     INTO v_nc_email, v_nc_seq, v_nc_id, v_nc_account, v_want
     FROM cand c JOIN ins ON ins.email = c.email;

   -- Created by another writer since we looked: take theirs, as
   -- crmgate_store_interaction does.
   IF coalesce(cardinality(v_nc_email), 0) < v_want THEN
      SELECT v_nc_email || array_agg(m.email), v_nc_seq || array_agg(m.seq),
             v_nc_id || array_agg(c.id), v_nc_account || array_agg(c.account_id)
        INTO v_nc_email, v_nc_seq, v_nc_id, v_nc_account
        FROM (SELECT DISTINCT ON (o.email) o.email, o.seq
                FROM unnest(v_occ) AS o
                LEFT JOIN unnest(v_cx_email) AS cx(email) ON cx.email = o.email
                LEFT JOIN unnest(v_nc_email) AS nc(email) ON nc.email = o.email
               WHERE o.may_create AND cx.email IS NULL AND nc.email IS NULL
               ORDER BY o.email, o.seq) m
        CROSS JOIN LATERAL (SELECT c.id, c.account_id FROM contacts c
                             WHERE c.workspace_id = p_workspace_id AND c.email = m.email
                             LIMIT 1) c;
   END IF;

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
     FROM unnest(v_occ) AS o
     LEFT JOIN unnest(v_cx_email, v_cx_id, v_cx_account) AS cx(email, id, account_id)
            ON cx.email = o.email
     LEFT JOIN unnest(v_nc_email, v_nc_seq, v_nc_id, v_nc_account) AS nc(email, seq, id, account_id)
            ON nc.email = o.email
     LEFT JOIN unnest(v_ax_domain, v_ax_account) AS ax(domain, account_id) ON ax.domain = o.domain
     LEFT JOIN unnest(v_nd_domain, v_nd_seq, v_nd_account) AS nd(domain, seq, account_id)
            ON nd.domain = o.domain;

   -- Never worse data: an existing contact gets its domain's account if
   -- it had none, and the first name seen if it had none.
   IF v_cx_id IS NOT NULL THEN
      WITH fill AS (
         SELECT cx.id, f.account_id, n.first_name, n.last_name
           FROM unnest(v_cx_email, v_cx_id) AS cx(email, id)
           JOIN (SELECT DISTINCT ON (l.email) l.email, l.account_id
                   FROM unnest(v_link) AS l ORDER BY l.email, l.item) f ON f.email = cx.email
           LEFT JOIN (SELECT DISTINCT ON (o.email) o.email, o.first_name, o.last_name
                        FROM unnest(v_occ) AS o
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
       WHERE c.id = ANY (v_cx_id) AND c.id = fill.id
         AND ((c.account_id IS NULL AND fill.account_id IS NOT NULL) OR
              (c.first_name IS NULL AND c.last_name IS NULL AND
               (fill.first_name IS NOT NULL OR fill.last_name IS NOT NULL)));
   END IF;

   -- each item's main external party (any appearance may be the one
   -- marked, a repeat resolving as its first) and the user credited
   SELECT array_agg(pr.contact_id ORDER BY n.i), array_agg(pr.account_id ORDER BY n.i),
          array_agg(us.user_id ORDER BY n.i)
     INTO v_main_contact, v_main_account, v_user
     FROM unnest(v_items) AS n(i)
     LEFT JOIN (SELECT DISTINCT ON (q.item) q.item, l.contact_id, l.account_id
                  FROM unnest(v_party) AS q
                  JOIN unnest(v_link) AS l ON l.item = q.item AND l.email = q.email
                 WHERE q.is_primary AND NOT q.internal AND NOT q.acting_only
                 ORDER BY q.item, q.pos) pr ON pr.item = n.i
     LEFT JOIN (SELECT DISTINCT ON (q.item) q.item, q.user_id
                  FROM unnest(v_party) AS q
                 WHERE q.acting_user
                 ORDER BY q.item, q.pos DESC) us ON us.item = n.i;

   INSERT INTO interactions (id, workspace_id, contact_id, account_id, user_id, type,
                             content, interacted_at, metadata)
   SELECT n.id, p_workspace_id, n.contact_id, n.account_id, n.user_id,
          p_types[n.i]::interaction_type, p_contents[n.i], to_timestamp(p_at[n.i]),
          p_metadata[n.i]::jsonb
     FROM unnest(v_items, v_ids, v_main_contact, v_main_account, v_user)
          AS n(i, id, contact_id, account_id, user_id);

   -- the interactions are new: no row can conflict but a party named
   -- twice in one role, which DISTINCT drops (cheaper than ON CONFLICT)
   INSERT INTO interaction_participants (workspace_id, interaction_id, interacted_at,
                                         contact_id, user_id, email, display_name, role)
   SELECT DISTINCT ON (q.item, q.email, q.role)
          p_workspace_id, n.id, to_timestamp(p_at[n.i]),
          CASE WHEN q.internal THEN NULL ELSE l.contact_id END,
          q.user_id, q.email, q.display_name, q.role
     FROM unnest(v_party) AS q
     JOIN unnest(v_items, v_ids) AS n(i, id) ON n.i = q.item
     LEFT JOIN unnest(v_link) AS l ON l.item = q.item AND l.email = q.email
    WHERE NOT q.acting_only
    ORDER BY q.item, q.email, q.role, q.pos;

   IF EXISTS (SELECT 1 FROM unnest(p_documents) AS d WHERE d IS NOT NULL AND d <> '[]') THEN
      WITH doc AS MATERIALIZED (
         SELECT gen_random_uuid() AS id, n.i, n.id AS interaction_id, d.v, d.pos,
                n.contact_id, n.account_id, n.user_id
           FROM unnest(v_items, v_ids, v_main_contact, v_main_account, v_user)
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
     FROM unnest(v_items, v_ids) AS n(i, id)
    WHERE p_embed[n.i] IS NOT NULL;

   RETURN QUERY SELECT n.i, n.id FROM unnest(v_items, v_ids) AS n(i, id);
END $$;

-- Mail text compresses to a few kilobytes: kept in the row (MAIN)
-- rather than cut into TOAST chunks, each its own row and index entry,
-- storing an interaction costs a third less. Partitions created later
-- take the parent's setting; existing ones are changed with it.
ALTER TABLE interactions ALTER COLUMN content SET STORAGE MAIN;
