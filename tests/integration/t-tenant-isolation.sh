#!/bin/bash
# Tenant isolation in PostgreSQL itself (sql/007_row_security.sql): a
# session confined to one workspace (role crmgate_tenant, setting
# crmgate.workspace_id) neither sees nor writes another workspace's rows,
# and crmgate's own batches run confined that way.
. "$(dirname "$0")/lib.sh"

"$CRMGATE" workspace add Acme --domain acme.example >/dev/null
"$CRMGATE" workspace add Globex --domain globex.example >/dev/null
mail "$WORK/a1.eml" "Ann <ann@customer.example>" "rep@acme.example" "Acme one"
mail "$WORK/a2.eml" "Bo <bo@supplier.example>" "rep@acme.example" "Acme two"
mail "$WORK/g1.eml" "Gil <gil@partner.example>" "rep@globex.example" "Globex one"
ingest Acme "$WORK/a1.eml" "$WORK/a2.eml"
ingest Globex "$WORK/g1.eml"
ACME=$(ws_id Acme)
GLOBEX=$(ws_id Globex)

as_tenant() {	# as_tenant WORKSPACE_ID SQL: one value per line, or the error
    [ -n "$DBURL" ] || DBURL=$("$CRMGATE" db url)
    psql -X -A -t -q "$DBURL" -v ON_ERROR_STOP=1 2>&1 <<EOF
SET ROLE crmgate_tenant;
SELECT set_config('crmgate.workspace_id', '$1', false) \\g /dev/null
$2
EOF
}

is "$(count interactions)" 3 "the owner sees both workspaces' mail"
is "$(as_tenant "$ACME" "SELECT count(*) FROM interactions")" 2 \
    "confined to Acme, a session sees Acme's two interactions"
is "$(as_tenant "$ACME" "SELECT string_agg(email, ',' ORDER BY email) FROM contacts")" \
    "ann@customer.example,bo@supplier.example" "  and only Acme's contacts"
is "$(as_tenant "$ACME" "SELECT name FROM workspaces")" Acme "  and only its own workspace"
is "$(as_tenant "$ACME" "SELECT count(*) FROM interaction_participants WHERE workspace_id = '$GLOBEX'")" 0 \
    "  asking for Globex's participants by id finds nothing"
is "$(as_tenant "$GLOBEX" "SELECT count(*) FROM interactions")" 1 "confined to Globex, its one interaction"
is "$(as_tenant "" "SELECT count(*) FROM contacts")" 0 "with no workspace set, nothing is visible"

out=$(as_tenant "$ACME" "INSERT INTO contacts (workspace_id, email) VALUES ('$GLOBEX', 'spy@evil.example')")
like "$out" "violates row-level security policy" "writing a row into another workspace is refused"
is "$(sql "SELECT count(*) FROM contacts WHERE email = 'spy@evil.example'")" 0 "  and nothing was written"
out=$(as_tenant "$ACME" "UPDATE contacts SET first_name = 'Hacked' WHERE workspace_id = '$GLOBEX' RETURNING id")
is "$out" "" "updating another workspace's contacts changes nothing"
is "$(sql "SELECT count(*) FROM contacts WHERE first_name = 'Hacked'")" 0 "  (checked as the owner)"
out=$(as_tenant "$ACME" "DELETE FROM interactions WHERE workspace_id = '$GLOBEX' RETURNING id")
is "$out" "" "deleting another workspace's interactions deletes nothing"
is "$(sql "SELECT count(*) FROM interactions WHERE workspace_id = '$GLOBEX'")" 1 "  (checked as the owner)"
out=$(as_tenant "$ACME" "SELECT crmgate_store_interaction('$GLOBEX', 'mid:<x@evil>', 'file', 'email',
      now(), 'x', '{}', '[]', '[]', true, NULL)")
like "$out" "violates row-level security policy" \
    "the store's own function, confined to Acme, cannot write into Globex"

# crmgate's batches run as the tenant role: take a privilege away from
# the role and crmgate's writes fail on it; give it back and they work
sql "REVOKE INSERT ON embedding_jobs FROM crmgate_tenant"
mail "$WORK/a3.eml" "Ann <ann@customer.example>" "rep@acme.example" "Acme three"
ingest Acme "$WORK/a3.eml"
is "$INGEST_RC" 1 "with the tenant role unable to queue embeddings, the ingest fails"
like "$INGEST_ERR" "permission denied for table embedding_jobs" \
    "  because crmgate wrote as crmgate_tenant"
sql "GRANT INSERT ON embedding_jobs TO crmgate_tenant"
ingest Acme "$WORK/a3.eml"
is "$INGEST_LINE" "ingested 1, duplicates 0, skipped 0, failed 0" "with the privilege back, it is stored"

done_testing
