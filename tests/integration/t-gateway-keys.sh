#!/bin/bash
# The gateway's own tables keep what their foreign keys promised after
# 014 traded the per-row keys for per-statement triggers: a row naming a
# contact, user or workspace that is not there is refused (23503); a
# contact named by rows being written cannot be deleted until the writer
# commits; deleting a contact, a user or a workspace takes its gateway
# rows along (or clears the user), as ON DELETE did.
. "$(dirname "$0")/lib.sh"

"$CRMGATE" workspace add Acme --domain acme.example >/dev/null
"$CRMGATE" workspace add Globex --domain globex.example >/dev/null
"$CRMGATE" user add --workspace Acme --email rep@acme.example --name "Rep One" >/dev/null
"$CRMGATE" user add --workspace Globex --email gus@globex.example >/dev/null
M="$WORK/mail"
mkdir -p "$M" "$WORK/g"
mail "$M/1.eml" "Bob <bob@client.example>" "rep@acme.example" "One" "" "<k1@t>"
mail "$M/2.eml" "rep@acme.example" "Bob <bob@client.example>, Ann <ann@client.example>" "Two" "" "<k2@t>"
mail "$M/3.eml" "Ann <ann@client.example>" "rep@acme.example" "Three" "" "<k3@t>"
mail "$WORK/g/1.eml" "Zed <zed@other.example>" "gus@globex.example" "Globex" "" "<g1@t>"
ingest Acme "$M"
is "$INGEST_LINE" "ingested 3, duplicates 0, skipped 0, failed 0" "three mails stored"
ingest Globex "$WORK/g"
is "$INGEST_LINE" "ingested 1, duplicates 0, skipped 0, failed 0" "and one in a second workspace"

ACME=$(ws_id Acme)
GLOBEX=$(ws_id Globex)
BOB=$(sql "SELECT id FROM contacts WHERE email = 'bob@client.example'")
REP=$(sql "SELECT id FROM users WHERE email = 'rep@acme.example'")
I1=$(sql "SELECT interaction_id FROM ingest_keys WHERE dedup_key = 'mid:k1@t'")
T1=$(sql "SELECT interacted_at FROM ingest_keys WHERE dedup_key = 'mid:k1@t'")
is "$(sql "SELECT count(*) FROM interaction_participants WHERE contact_id = '$BOB'")" "2" \
   "bob takes part in two interactions"

# refused as a key would refuse it
out=$(sql "INSERT INTO interaction_participants (workspace_id, interaction_id, interacted_at,
             contact_id, email, role)
           VALUES ('$ACME', '$I1', '$T1', gen_random_uuid(), 'ghost@client.example', 'cc')" 2>&1)
like "$out" 'interaction_participants.*names contacts\.id [0-9a-f-]+, which is not present' \
     "a participant naming a contact that does not exist is refused, naming it"
DB=$("$CRMGATE" db url)
is "$(psql -X -A -t -q "$DB" -v VERBOSITY=verbose \
      -c "INSERT INTO interaction_participants (workspace_id, interaction_id, interacted_at,
            user_id, email, role) VALUES ('$ACME', '$I1', '$T1', gen_random_uuid(), 'x@acme.example', 'cc')" \
      2>&1 | sed -n 's/^ERROR: *\([0-9A-Z]\{5\}\):.*/\1/p')" "23503" \
   "a participant naming a user that does not exist fails with SQLSTATE 23503"
out=$(sql "INSERT INTO ingest_keys (workspace_id, dedup_key, source)
           VALUES (gen_random_uuid(), 'mid:nowhere@t', 'file')" 2>&1)
like "$out" 'ingest_keys.*names workspaces\.id' "a dedup key for a workspace that does not exist is refused"
out=$(sql "INSERT INTO embedding_jobs (workspace_id, target_table, target_id)
           VALUES (gen_random_uuid(), 'interactions', gen_random_uuid())" 2>&1)
like "$out" 'embedding_jobs.*names workspaces\.id' "an embedding job for a workspace that does not exist is refused"
out=$(sql "UPDATE interaction_participants SET contact_id = gen_random_uuid() WHERE contact_id = '$BOB'" 2>&1)
like "$out" 'interaction_participants.*names contacts\.id' "an update naming a contact that does not exist is refused"
is "$(sql "SELECT count(*) FROM interaction_participants WHERE email IN ('ghost@client.example', 'x@acme.example')")" \
   "0" "and none of those rows was written"

# the writer's lock: a contact named by uncommitted rows cannot be deleted
contacts_locked() {
    [ "$(sql "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
               WHERE c.relname = 'contacts' AND l.pid <> pg_backend_pid()")" -gt 0 ]
}
{
    echo "BEGIN;"
    echo "INSERT INTO interaction_participants (workspace_id, interaction_id, interacted_at, contact_id, email, role)"
    echo "  VALUES ('$ACME', '$I1', '$T1', '$BOB', 'bob@client.example', 'cc');"
    echo "SELECT pg_sleep(3);"
    echo "COMMIT;"
} | psql -X -q "$DB" >/dev/null 2>&1 &
writer=$!
wait_for 5 contacts_locked
out=$(sql "SET lock_timeout = '500ms'; DELETE FROM contacts WHERE id = '$BOB'" 2>&1)
like "$out" 'lock timeout' "while a writer's rows name a contact, deleting the contact waits for it"
wait $writer
is "$(sql "SELECT count(*) FROM interaction_participants WHERE contact_id = '$BOB'")" "3" \
   "and the writer's row is stored"

# the cascades (a contact's interactions go too: the seed's key on
# interactions.contact_id cascades, and their participants with them)
ann_kept=$(sql "SELECT count(*) FROM interaction_participants p JOIN interactions i ON i.id = p.interaction_id
                 WHERE p.email = 'ann@client.example' AND i.contact_id IS DISTINCT FROM '$BOB'")
ok $((ann_kept > 0 ? 0 : 1)) "ann has rows in interactions that are not bob's ($ann_kept)"
sql "DELETE FROM contacts WHERE id = '$BOB'" >/dev/null
is "$(sql "SELECT count(*) FROM interaction_participants WHERE contact_id = '$BOB' OR email = 'bob@client.example'")" \
   "0" "deleting a contact deletes the participant rows naming it"
is "$(sql "SELECT count(*) FROM interaction_participants WHERE email = 'ann@client.example'")" "$ann_kept" \
   "and leaves the other contacts' rows"
rep_rows=$(sql "SELECT count(*) FROM interaction_participants WHERE user_id = '$REP'")
ok $((rep_rows > 0 ? 0 : 1)) "the rep still takes part in $rep_rows of them"
sql "DELETE FROM users WHERE id = '$REP'" >/dev/null
is "$(sql "SELECT count(*) FILTER (WHERE user_id IS NULL) || '/' || count(*)
             FROM interaction_participants WHERE email = 'rep@acme.example'")" "$rep_rows/$rep_rows" \
   "deleting a user keeps its participant rows, without the user"
sql "DELETE FROM workspaces WHERE id = '$ACME'" >/dev/null
for t in ingest_keys embedding_jobs interaction_participants; do
    is "$(sql "SELECT count(*) FROM $t WHERE workspace_id = '$ACME'")" "0" \
       "deleting a workspace deletes its $t"
    is "$(sql "SELECT count(*) > 0 FROM $t WHERE workspace_id = '$GLOBEX'")" "t" \
       "  and leaves the other workspace's"
done

# the triggers stand in for keys: the keys must be gone, the triggers there
is "$(sql "SELECT count(*) FROM pg_constraint WHERE contype = 'f'
             AND conrelid IN ('interaction_participants'::regclass, 'ingest_keys'::regclass,
                              'embedding_jobs'::regclass)")" "0" \
   "the three tables have no per-row foreign keys left"
ingest Globex "$WORK/g"
is "$INGEST_LINE" "ingested 0, duplicates 1, skipped 0, failed 0" "the other workspace ingests on"

done_testing
