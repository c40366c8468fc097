-- 011_meeting_merge.sql: one meeting, one interaction, everybody in it.
-- The same meeting (UID and occurrence: one dedup key) arrives as many
-- copies: from each teammate's calendar, as the invitation mail, as
-- replies. 006 replaced the stored meeting wholesale by any copy of the
-- same SEQUENCE with another fingerprint, so teammates whose own copy
-- differed (their own PARTSTAT, the attendees their server lists) took
-- turns dropping out of the participants. Copies are now merged
-- (src/meeting.h says what the C side sends):
-- - text, times and status come from the highest SEQUENCE (ties: the
--   newest copy); answers (REPLY, COUNTER, DECLINECOUNTER) never give them;
-- - participants and metadata.attendees are the union by address of all
--   copies: nobody drops out because a copy omits them;
-- - an attendee's partstat is their own answer when one was seen
--   (own_answer), else the newest copy's; a copy of the same SEQUENCE
--   still saying NEEDS-ACTION (or nothing) does not undo a known answer;
-- - metadata.calendar_owners collects whose calendars the copies came
--   from; declined and declined_by are decided on the merged attendees.
-- A copy seen before (ingest_keys.copies: fingerprints of the copies
-- merged, the last 64) is a duplicate without reading anything; a copy
-- that changes nothing the CRM shows is one too. A copy that only
-- changes answers updates the metadata in place; one that adds people or
-- changes text or time re-stores the row as 006 does (same id), keeping
-- its embedding when the text is unchanged.

ALTER TABLE ingest_keys ADD COLUMN copies text[];

-- declined_by: the attendees (people; not the organizer) whose partstat
-- is DECLINED. declined: the occurrence is no touchpoint - with an
-- internal (or no) organizer every external attendee declined; with an
-- external organizer every internal attendee declined; or every calendar
-- owner seen (other than the organizer) declined in their own copy.
CREATE FUNCTION crmgate_meeting_declined(p_meta jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
   WITH a AS (
      SELECT lower(e->>'email') AS email,
             upper(coalesce(e->>'partstat', '')) AS ps,
             coalesce((e->>'internal')::boolean, false) AS internal,
             coalesce((e->>'own_answer')::boolean, false) AS own
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p_meta->'attendees') = 'array'
                                       THEN p_meta->'attendees' ELSE '[]'::jsonb END) e
       WHERE e->>'email' IS NOT NULL
         AND upper(coalesce(e->>'cutype', '')) NOT IN ('ROOM', 'RESOURCE')
         AND lower(e->>'email') IS DISTINCT FROM lower(p_meta->'organizer'->>'email')
   ), o AS (
      SELECT coalesce((p_meta->'organizer'->>'internal')::boolean, true) AS org_internal
   ), w AS (
      SELECT DISTINCT lower(x) AS email
        FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(p_meta->'calendar_owners') = 'array'
                                            THEN p_meta->'calendar_owners' ELSE '[]'::jsonb END) x
       WHERE lower(x) IS DISTINCT FROM lower(p_meta->'organizer'->>'email')
   )
   SELECT jsonb_build_object(
      'declined_by', coalesce((SELECT jsonb_agg(DISTINCT email) FROM a WHERE ps = 'DECLINED'),
                              '[]'::jsonb),
      'declined',
         ((SELECT org_internal FROM o)
          AND EXISTS (SELECT 1 FROM a WHERE NOT internal)
          AND NOT EXISTS (SELECT 1 FROM a WHERE NOT internal AND ps <> 'DECLINED'))
         OR (NOT (SELECT org_internal FROM o)
          AND EXISTS (SELECT 1 FROM a WHERE internal)
          AND NOT EXISTS (SELECT 1 FROM a WHERE internal AND ps <> 'DECLINED'))
         OR (EXISTS (SELECT 1 FROM w)
          AND NOT EXISTS (SELECT 1 FROM w
                           WHERE NOT EXISTS (SELECT 1 FROM a WHERE a.email = w.email
                                                AND a.own AND a.ps = 'DECLINED'))))
$$;

-- The attendees of two copies, merged by address (see the top). p_new_first:
-- the new copy gives the order, names, roles (it is the one whose text
-- is kept).
CREATE FUNCTION crmgate_meeting_merge_attendees(p_old jsonb, p_new jsonb, p_seq bigint,
                                                p_new_first boolean) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
   WITH o AS (
      SELECT e, ord, coalesce(lower(e->>'email'), 'cn:' || coalesce(e->>'name', '')) AS k
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p_old) = 'array' THEN p_old
                                       ELSE '[]'::jsonb END) WITH ORDINALITY t(e, ord)
   ), n AS (
      SELECT e, ord, coalesce(lower(e->>'email'), 'cn:' || coalesce(e->>'name', '')) AS k
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p_new) = 'array' THEN p_new
                                       ELSE '[]'::jsonb END) WITH ORDINALITY t(e, ord)
   ), j AS (
      SELECT DISTINCT ON (coalesce(n.k, o.k)) o.e AS oe, n.e AS ne, o.ord AS oord, n.ord AS nord,
             coalesce((o.e->>'own_answer')::boolean, false) AS o_own,
             nullif(o.e->>'partstat', '') AS o_ps,
             coalesce((o.e->>'answer_sequence')::bigint, -1) AS o_seq,
             coalesce((n.e->>'own_answer')::boolean, false) AS n_own,
             nullif(n.e->>'partstat', '') AS n_ps
        FROM o FULL JOIN n ON o.k = n.k
       ORDER BY coalesce(n.k, o.k), n.ord, o.ord
   ), d AS (
      SELECT *,
             ne IS NOT NULL AND (oe IS NULL OR (n_ps IS NOT NULL AND (
                CASE WHEN n_own THEN NOT o_own OR o_ps IS NULL OR p_seq >= o_seq
                     ELSE (NOT o_own OR o_ps IS NULL)
                          AND (o_ps IS NULL OR p_seq > o_seq
                               OR (p_seq = o_seq AND (upper(n_ps) <> 'NEEDS-ACTION'
                                                      OR upper(o_ps) = 'NEEDS-ACTION')))
                END))) AS n_wins
        FROM j
   )
   SELECT coalesce(jsonb_agg(
             CASE WHEN oe IS NULL THEN ne
                  WHEN ne IS NULL THEN oe
                  ELSE (CASE WHEN p_new_first THEN oe || ne ELSE ne || oe END)
                       || jsonb_build_object(
                             'name', coalesce(nullif(CASE WHEN p_new_first THEN ne ELSE oe END->'name', 'null'::jsonb),
                                              CASE WHEN p_new_first THEN oe ELSE ne END->'name'),
                             'internal', coalesce(ne->'internal', oe->'internal'),
                             'partstat', CASE WHEN n_wins THEN ne ELSE oe END->'partstat',
                             'own_answer', coalesce(CASE WHEN n_wins THEN ne ELSE oe END->'own_answer', 'false'::jsonb),
                             'answer_sequence', coalesce(CASE WHEN n_wins THEN ne ELSE oe END->'answer_sequence', '-1'::jsonb))
             END
             ORDER BY CASE WHEN p_new_first THEN coalesce(nord, 100000 + oord)
                           ELSE coalesce(oord, 100000 + nord) END), '[]'::jsonb)
     FROM d
$$;

-- What the store adds to a meeting's metadata, on the merged attendees:
-- calendar_owners, declined, declined_by; and the direction, as no
-- longer internal once a merged copy brought an external attendee.
CREATE FUNCTION crmgate_meeting_finish(p_meta jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
   v jsonb := p_meta;
BEGIN
   IF NOT v ? 'calendar_owners' THEN
      v := v || jsonb_build_object('calendar_owners',
                  CASE WHEN v->>'calendar_owner' IS NULL THEN '[]'::jsonb
                       ELSE jsonb_build_array(v->>'calendar_owner') END);
   END IF;
   IF NOT v ? 'caldav_hrefs' AND v->>'caldav_href' IS NOT NULL THEN
      v := v || jsonb_build_object('caldav_hrefs', jsonb_build_array(v->>'caldav_href'));
   END IF;
   IF v->>'direction' = 'internal' AND (
         coalesce((v->'organizer'->>'internal')::boolean, true) = false OR
         EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(v->'attendees', '[]'::jsonb)) e
                  WHERE e->>'email' IS NOT NULL
                    AND upper(coalesce(e->>'cutype', '')) NOT IN ('ROOM', 'RESOURCE')
                    AND NOT coalesce((e->>'internal')::boolean, true))) THEN
      v := v || jsonb_build_object('direction',
                  CASE WHEN coalesce((v->'organizer'->>'internal')::boolean, true)
                       THEN 'outbound' ELSE 'inbound' END);
   END IF;
   RETURN v || crmgate_meeting_declined(v);
END $$;

-- Metadata without what differs between copies of one content (where
-- and how each copy came, and whose answer each partstat was): what
-- decides whether a merge changed anything the CRM shows.
CREATE FUNCTION crmgate_meeting_shown(p_meta jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
   SELECT (p_meta - ARRAY['source', 'source_ref', 'method', 'caldav_href', 'invitation_mail',
                           'prodid', 'date_source', 'calendar_owner', 'replaced_at',
                          'replaced_revision', 'caldav_hrefs', 'attendees'])
          || jsonb_build_object('attendees',
                (SELECT coalesce(jsonb_agg(e - ARRAY['own_answer', 'answer_sequence'] ORDER BY ord),
                                 '[]'::jsonb)
                   FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p_meta->'attendees') = 'array'
                                                  THEN p_meta->'attendees' ELSE '[]'::jsonb END)
                        WITH ORDINALITY t(e, ord)))
$$;

-- 006's contract, copies merged (see the top). Returns the interaction's
-- id when it was stored or changed, NULL for a duplicate.
CREATE OR REPLACE FUNCTION crmgate_store_revision(
   p_workspace_id uuid, p_dedup_key text, p_source text, p_type interaction_type,
   p_interacted_at timestamptz, p_content text, p_metadata jsonb, p_parties jsonb,
   p_documents jsonb, p_create_accounts boolean, p_embed_text text,
   p_revision bigint, p_fingerprint text) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
   v_key record;
   v_old record;
   v_id uuid;
   v_new uuid;
   v_seen text[];
   v_take boolean;
   v_meta jsonb;
   v_owners jsonb;
   v_hrefs jsonb;
   v_parties jsonb;
   v_content text;
   v_at timestamptz;
   v_embed text;
   v_added boolean;
BEGIN
   -- FOR UPDATE: two writers with two copies of one meeting take turns
   SELECT interaction_id, interacted_at, revision, fingerprint, created_at, copies INTO v_key
     FROM ingest_keys
    WHERE workspace_id = p_workspace_id AND dedup_key = p_dedup_key
      FOR UPDATE;
   IF NOT FOUND THEN
      v_id := crmgate_store_interaction(p_workspace_id, p_dedup_key, p_source, p_type,
                                        p_interacted_at, p_content,
                                        crmgate_meeting_finish(p_metadata), p_parties,
                                        p_documents, p_create_accounts, p_embed_text);
      IF v_id IS NOT NULL THEN
         UPDATE ingest_keys
            SET revision = p_revision, fingerprint = p_fingerprint, copies = ARRAY[p_fingerprint]
          WHERE workspace_id = p_workspace_id AND dedup_key = p_dedup_key;
         RETURN v_id;
      END IF;
      -- another writer stored a copy first (two teammates' calendars
      -- synced at once): this one is merged into it, not lost
      SELECT interaction_id, interacted_at, revision, fingerprint, created_at, copies INTO v_key
        FROM ingest_keys
       WHERE workspace_id = p_workspace_id AND dedup_key = p_dedup_key
         FOR UPDATE;
      IF NOT FOUND THEN
         RETURN NULL;
      END IF;
   END IF;

   -- crmgate_caldav_forget() clears the fingerprint of a meeting it
   -- marked: any copy coming back is news again
   v_seen := CASE WHEN v_key.fingerprint IS NULL THEN '{}'::text[]
                  ELSE coalesce(v_key.copies, ARRAY[v_key.fingerprint]) END;
   IF p_fingerprint = ANY (v_seen) THEN
      RETURN NULL;
   END IF;
   v_seen := v_seen || p_fingerprint;
   v_seen := v_seen[greatest(1, cardinality(v_seen) - 63):];

   SELECT id, interacted_at, content, metadata, contact_id, user_id, embedding INTO v_old
     FROM interactions
    WHERE id = v_key.interaction_id AND interacted_at = v_key.interacted_at;
   IF NOT FOUND THEN
      -- the interaction is gone, the key alone left: store this copy anew
      DELETE FROM ingest_keys WHERE workspace_id = p_workspace_id AND dedup_key = p_dedup_key;
      RETURN crmgate_store_revision(p_workspace_id, p_dedup_key, p_source, p_type,
                                    p_interacted_at, p_content, p_metadata, p_parties,
                                    p_documents, p_create_accounts, p_embed_text,
                                    p_revision, p_fingerprint);
   END IF;

   v_take := coalesce(p_metadata->>'method', '') NOT IN ('REPLY', 'COUNTER', 'DECLINECOUNTER')
             AND p_revision >= coalesce(v_key.revision, -1);
   SELECT coalesce(jsonb_agg(DISTINCT x), '[]'::jsonb) INTO v_owners
     FROM (SELECT jsonb_array_elements_text(coalesce(v_old.metadata->'calendar_owners',
                                                     '[]'::jsonb)) AS x
           UNION SELECT p_metadata->>'calendar_owner') s
    WHERE x IS NOT NULL;
   SELECT coalesce(jsonb_agg(DISTINCT x), '[]'::jsonb) INTO v_hrefs
     FROM (SELECT jsonb_array_elements_text(coalesce(v_old.metadata->'caldav_hrefs',
                                                     '[]'::jsonb)) AS x
           UNION SELECT v_old.metadata->>'caldav_href'
           UNION SELECT p_metadata->>'caldav_href') s
    WHERE x IS NOT NULL
      -- a meeting whose resources all went away has none left but this copy's
      AND (x = p_metadata->>'caldav_href'
           OR NOT coalesce((v_old.metadata->>'caldav_deleted')::boolean, false));
   v_meta := CASE WHEN v_take THEN p_metadata ELSE v_old.metadata END
             || CASE WHEN jsonb_array_length(v_hrefs) > 0
                     THEN jsonb_build_object('caldav_hrefs', v_hrefs,
                             'caldav_href', coalesce(CASE WHEN v_take THEN p_metadata
                                                          ELSE v_old.metadata END->>'caldav_href',
                                                     v_hrefs->>0))
                     ELSE '{}'::jsonb END
             || jsonb_build_object(
                   'attendees', crmgate_meeting_merge_attendees(v_old.metadata->'attendees',
                                                                p_metadata->'attendees',
                                                                p_revision, v_take),
                   'calendar_owners', v_owners);
   v_meta := crmgate_meeting_finish(v_meta);
   v_content := CASE WHEN v_take THEN p_content ELSE v_old.content END;
   v_at := CASE WHEN v_take THEN p_interacted_at ELSE v_old.interacted_at END;
   SELECT EXISTS (
      SELECT 1 FROM jsonb_array_elements(coalesce(p_parties, '[]'::jsonb)) x
       WHERE NOT coalesce((x->>'acting_only')::boolean, false)
         AND NOT EXISTS (SELECT 1 FROM interaction_participants ip
                          WHERE ip.interaction_id = v_old.id AND ip.email = x->>'email'
                            AND ip.role = (x->>'role')::participant_role)) INTO v_added;

   IF v_content IS NOT DISTINCT FROM v_old.content AND v_at = v_old.interacted_at
      AND NOT v_added THEN
      UPDATE ingest_keys SET copies = v_seen, revision = greatest(revision, p_revision)
       WHERE workspace_id = p_workspace_id AND dedup_key = p_dedup_key;
      IF v_meta IS NOT DISTINCT FROM v_old.metadata THEN
         RETURN NULL;	-- a copy that adds nothing
      END IF;
      UPDATE interactions SET metadata = v_meta
       WHERE id = v_old.id AND interacted_at = v_old.interacted_at;
      -- only whose answers they were, or how the copy came: noted, but
      -- nothing the CRM shows changed (a duplicate)
      IF crmgate_meeting_shown(v_meta) IS NOT DISTINCT FROM crmgate_meeting_shown(v_old.metadata) THEN
         RETURN NULL;
      END IF;
      RETURN v_old.id;
   END IF;

   -- Re-stored with the union of the participants: the stored ones as
   -- they are (a contact stays linked, nobody new is created for them),
   -- and this copy's, matched as for a new meeting; the copy whose text
   -- is kept comes first (its primary party, its acting user; an
   -- acting_only entry counts when no earlier one did).
   WITH old AS (
      SELECT jsonb_build_object('email', email, 'display_name', display_name, 'role', role,
                                'user_id', user_id, 'internal', contact_id IS NULL,
                                'primary', contact_id IS NOT NULL AND contact_id = v_old.contact_id,
                                'acting_user', false) AS p, email, role::text AS role
        FROM interaction_participants WHERE interaction_id = v_old.id
   ), fresh AS (
      SELECT CASE WHEN v_take THEN x ELSE x || '{"acting_user": false, "primary": false}'::jsonb END AS p,
             x->>'email' AS email, x->>'role' AS role, ord
        FROM jsonb_array_elements(coalesce(p_parties, '[]'::jsonb)) WITH ORDINALITY t(x, ord)
   ), acting AS (
      SELECT jsonb_build_object('acting_only', true, 'acting_user', true,
                                'user_id', v_old.user_id) AS p
       WHERE v_old.user_id IS NOT NULL
   )
   SELECT coalesce(jsonb_agg(p ORDER BY grp, ord), '[]'::jsonb) INTO v_parties
     FROM (SELECT p, CASE WHEN v_take THEN 1 ELSE 2 END AS grp, ord FROM fresh
            WHERE v_take OR NOT EXISTS (SELECT 1 FROM old WHERE old.email = fresh.email
                                                              AND old.role = fresh.role)
           UNION ALL
           SELECT p, CASE WHEN v_take THEN 2 ELSE 1 END, 0 FROM old
            WHERE NOT v_take OR NOT EXISTS (SELECT 1 FROM fresh WHERE fresh.email = old.email
                                                                   AND fresh.role = old.role)
           UNION ALL
           SELECT p, CASE WHEN v_take THEN 3 ELSE 0 END, 0 FROM acting) s;
   v_embed := CASE WHEN v_take THEN p_embed_text ELSE v_old.content END;

   v_id := v_old.id;
   DELETE FROM embedding_jobs
    WHERE target_table = 'interactions' AND target_id = v_id AND status = 'pending';
   DELETE FROM interactions WHERE id = v_id AND interacted_at = v_old.interacted_at;
   DELETE FROM ingest_keys WHERE workspace_id = p_workspace_id AND dedup_key = p_dedup_key;
   v_new := crmgate_store_interaction(p_workspace_id, p_dedup_key, p_source, p_type,
                                      v_at, v_content,
                                      v_meta || jsonb_build_object(
                                         'replaced_at', now(),
                                         'replaced_revision', v_key.revision),
                                      v_parties, p_documents, p_create_accounts, v_embed);
   UPDATE interactions SET id = v_id WHERE id = v_new AND interacted_at = v_at;
   UPDATE interaction_participants SET interaction_id = v_id WHERE interaction_id = v_new;
   UPDATE interaction_documents SET interaction_id = v_id WHERE interaction_id = v_new;
   UPDATE embedding_jobs SET target_id = v_id
    WHERE target_table = 'interactions' AND target_id = v_new;
   -- the same text keeps its vector: no embedding call for a new attendee
   IF v_content IS NOT DISTINCT FROM v_old.content AND v_old.embedding IS NOT NULL THEN
      UPDATE interactions SET embedding = v_old.embedding WHERE id = v_id AND interacted_at = v_at;
      DELETE FROM embedding_jobs
       WHERE target_table = 'interactions' AND target_id = v_id AND status = 'pending';
   END IF;
   UPDATE ingest_keys
      SET interaction_id = v_id, revision = greatest(coalesce(v_key.revision, p_revision), p_revision),
          fingerprint = p_fingerprint, created_at = v_key.created_at, copies = v_seen
    WHERE workspace_id = p_workspace_id AND dedup_key = p_dedup_key;
   RETURN v_id;
END $$;

-- A meeting in several teammates' calendars has several CalDAV resources
-- (metadata.caldav_hrefs, every copy's; caldav_href: one of them). One
-- of them going away (a teammate deleting it from their calendar) does
-- not cancel the meeting: the href is taken off the list, and the
-- copies seen are forgotten so that the teammate's copy coming back is
-- merged again. The meeting is marked cancelled, as 008 did, only when
-- the last of its resources went away.
CREATE INDEX idx_interactions_caldav_hrefs ON interactions
   USING gin ((metadata->'caldav_hrefs')) WHERE metadata ? 'caldav_hrefs';

CREATE OR REPLACE FUNCTION crmgate_caldav_forget(p_workspace_id uuid, p_href text, p_keep jsonb,
                                                 p_from timestamptz, p_to timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
   v record;
   v_rest jsonb;
   v_n integer := 0;
BEGIN
   FOR v IN
      SELECT i.id, i.interacted_at, i.metadata, k.dedup_key
        FROM interactions i
        JOIN ingest_keys k ON k.workspace_id = i.workspace_id AND k.interaction_id = i.id
       WHERE i.workspace_id = p_workspace_id
         AND ((i.metadata ? 'caldav_hrefs' AND i.metadata->'caldav_hrefs' ? p_href)
              OR (i.metadata ? 'caldav_href' AND i.metadata->>'caldav_href' = p_href))
         AND NOT coalesce((i.metadata->>'caldav_deleted')::boolean, false)
         AND NOT (coalesce(p_keep, '[]'::jsonb) ? k.dedup_key)
         AND (p_from IS NULL OR
              (coalesce(i.metadata->>'recurrence_id', i.metadata->>'start')::timestamptz >= p_from
               AND coalesce(i.metadata->>'recurrence_id', i.metadata->>'start')::timestamptz < p_to))
         FOR UPDATE OF i
   LOOP
      v_rest := coalesce(v.metadata->'caldav_hrefs', '[]'::jsonb) - p_href;
      IF jsonb_array_length(v_rest) > 0 THEN
         UPDATE interactions
            SET metadata = metadata || jsonb_build_object(
                   'caldav_hrefs', v_rest,
                   'caldav_href', CASE WHEN metadata->>'caldav_href' = p_href
                                       THEN v_rest->>0 ELSE metadata->>'caldav_href' END)
          WHERE id = v.id AND interacted_at = v.interacted_at;
         UPDATE ingest_keys SET copies = '{}'
          WHERE workspace_id = p_workspace_id AND dedup_key = v.dedup_key;
         CONTINUE;
      END IF;
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
