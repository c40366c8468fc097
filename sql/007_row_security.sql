-- 007_row_security.sql: tenant isolation in the database itself, behind
-- the store's own scoping by workspace_id.
--
-- Every workspace-scoped table gets a row-level security policy: a role
-- that does not own the tables sees and writes only the rows of the
-- workspace named by the setting crmgate.workspace_id (none when it is
-- unset). crmgate stores each batch of mail as the role crmgate_tenant
-- with that setting made for the transaction (SET LOCAL), so a bug that
-- mixed workspaces would be refused by PostgreSQL. Administrative work
-- (workspaces, partitions, migrations, source leases) runs as the owner,
-- which policies do not bind. The CRM's own application role can be
-- granted crmgate_tenant to get the same confinement.

-- The role is cluster-wide: created once, shared by every database.
-- A configured database whose user may not create roles keeps working
-- without it (the store then skips the per-transaction scope).
DO $$
BEGIN
   IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'crmgate_tenant') THEN
      CREATE ROLE crmgate_tenant NOLOGIN;
   END IF;
   EXECUTE format('GRANT crmgate_tenant TO %I', current_user);
EXCEPTION WHEN insufficient_privilege THEN
   RAISE NOTICE 'crmgate_tenant role not created (%): row-level scoping of crmgate''s writes is off', SQLERRM;
END $$;

CREATE FUNCTION crmgate_current_workspace() RETURNS uuid
LANGUAGE sql STABLE AS $$
   SELECT NULLIF(current_setting('crmgate.workspace_id', true), '')::uuid
$$;

DO $$
DECLARE
   t record;
   has_role boolean := EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'crmgate_tenant');
BEGIN
   -- every table (partitioned parents included, their partitions not:
   -- rows are reached through the parent) with a workspace_id column
   FOR t IN
      SELECT c.relname
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'workspace_id' AND NOT a.attisdropped
       WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
   LOOP
      EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t.relname);
      EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (workspace_id = crmgate_current_workspace())'
                     ' WITH CHECK (workspace_id = crmgate_current_workspace())', t.relname);
   END LOOP;
   ALTER TABLE workspaces ENABLE ROW LEVEL SECURITY;
   CREATE POLICY tenant_isolation ON workspaces
      USING (id = crmgate_current_workspace()) WITH CHECK (id = crmgate_current_workspace());
   IF has_role THEN
      EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO crmgate_tenant',
                     current_schema());
      EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO crmgate_tenant', current_schema());
      EXECUTE format('GRANT USAGE ON SCHEMA %I TO crmgate_tenant', current_schema());
      EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE'
                     ' ON TABLES TO crmgate_tenant', current_schema());
      EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE ON SEQUENCES TO crmgate_tenant',
                     current_schema());
   END IF;
END $$;
