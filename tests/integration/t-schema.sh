#!/bin/bash
# The schema: migrations apply once, the seed's tables and indexes exist,
# the embedded database is reused across runs, the admin commands work.
. "$(dirname "$0")/lib.sh"

out=$("$CRMGATE" migrate)
like "$out" '^migrations: applied [1-9][0-9]*, pending 0$' "crmgate migrate on a fresh home applies every migration"
is "$("$CRMGATE" migrate)" "migrations: applied 0, pending 0" "running migrate again applies nothing"
is "$(count schema_migrations)" "$(ls "$top_srcdir"/sql/[0-9]*.sql | wc -l)" "schema_migrations records each sql/ file"

for t in workspaces users accounts contacts opportunities opportunity_participants interactions \
         notes tasks documents workspace_domains account_domains ingest_keys \
         interaction_participants interaction_documents embedding_jobs; do
    is "$(sql "SELECT to_regclass('public.$t') IS NOT NULL")" "t" "table $t exists"
done
is "$(sql "SELECT count(*) FROM pg_partitioned_table WHERE partrelid = 'interactions'::regclass")" "1" \
   "interactions is partitioned"
is "$(sql "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'interactions'::regclass AND contype = 'p'")" \
   "PRIMARY KEY (id, interacted_at)" "the interactions key includes the partition key"
like "$(sql "SELECT indexdef FROM pg_indexes WHERE tablename = 'contacts'")" \
   "\(workspace_id, lifecycle_stage, created_at DESC\)" "contacts has section 4.1's composite index"
like "$(sql "SELECT indexdef FROM pg_indexes WHERE tablename = 'tasks'")" \
   "\(assigned_to_id\) WHERE \(status = 'pending'::text\)" "tasks has the partial index on pending tasks"
like "$(sql "SELECT indexdef FROM pg_indexes WHERE tablename = 'interactions'")" \
   "USING hnsw \(embedding vector_ip_ops\) WITH \(m='32', ef_construction='128'\)" \
   "interactions declares the HNSW index every partition inherits"
is "$(sql "SELECT extname FROM pg_extension WHERE extname = 'vector'")" "vector" "pgvector is installed"

id=$("$CRMGATE" workspace add Acme --domain acme.example --domain ACME.test)
like "$id" '^[0-9a-f-]{36}$' "workspace add prints the new workspace's id"
"$CRMGATE" workspace add Acme >/dev/null 2>&1
is "$?" "1" "a second workspace with the same name is refused"
like "$("$CRMGATE" workspace list)" "^Acme	$id	domains=acme.example,acme.test$" \
     "workspace list shows the name, id and lower-cased domains"
"$CRMGATE" workspace add-address Acme "Log+Acme@In.Example.com"
is "$?:$(sql "SELECT address FROM workspace_addresses")" "0:log+acme@in.example.com" \
   "workspace add-address stores the dropbox address lower-cased"
"$CRMGATE" workspace add Other >/dev/null
"$CRMGATE" workspace add-address Other log+acme@in.example.com 2>"$WORK/err"
is "$?" "2" "an address already routing to a workspace cannot route to a second"
like "$(cat "$WORK/err")" "already routes to a workspace" "and says so"
"$CRMGATE" workspace add-address Nope x@y.example 2>"$WORK/err"
like "$?:$(cat "$WORK/err")" "^2:.*no workspace named \"Nope\"" "add-address to an unknown workspace names it"
uid=$("$CRMGATE" user add --workspace Acme --email Alice@Acme.example --name "Alice Archer" --role admin)
is "$(sql "SELECT email || ' ' || role FROM users WHERE id = '$uid'")" "alice@acme.example admin" \
   "user add stores a lower-cased address and the role"
"$CRMGATE" user add --workspace Nope --email a@b.example >/dev/null 2>&1
is "$?" "2" "user add for an unknown workspace is a usage error"

"$CRMGATE" db stop >/dev/null
is "$("$CRMGATE" workspace list | cut -f1 | head -n 1)" "Acme" "after db stop the next command restarts the cluster, data kept"
is "$(stat -c %a "$CRMGATE_HOME/pg/data")" "700" "the cluster's data directory is private"
like "$("$CRMGATE" db url)" "^host=$CRMGATE_HOME/pg/run " "the embedded database listens on a socket in its own home"

for c in migrate workspace user ingest status db; do
    "$CRMGATE" $c --help >/dev/null 2>&1
    is "$?" "0" "crmgate $c --help works"
done
like "$("$CRMGATE" --version)" "^crmgate [0-9]" "crmgate --version names the version"
"$CRMGATE" frobnicate >/dev/null 2>&1
is "$?" "2" "an unknown command is a usage error"
"$CRMGATE" --max-headers nope status >/dev/null 2>&1
is "$?" "2" "a bad --key value is a usage error"

done_testing
