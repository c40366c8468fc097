-- 001_seed_schema.sql: the CRM's data model, from the seed design
-- (crm-schema-design.txt section 5.1 with section 4.1's indexes), made to
-- run on PostgreSQL 15 + pgvector 0.8. Deviations from the seed, and why:
--   * workspaces: the seed's trailing comma is a syntax error.
--   * users: standalone (no Supabase auth.users here), with a generated id
--     and an email, unique per workspace, which mail is matched against.
--   * interactions: a partitioned table's primary key must contain the
--     partition key, so PRIMARY KEY (id, interacted_at); its foreign keys
--     are section 2's.
--   * every foreign key column has a B-tree index (section 4.1's rule).
-- Partitions of interactions are created by crmgate on demand
-- (crmgate_ensure_month_partition in 002); indexes declared here on the
-- parent are created on every partition, HNSW included.

CREATE EXTENSION IF NOT EXISTS vector;

-- TENANCY
CREATE TABLE workspaces (
   id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
   name TEXT NOT NULL,
   created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE users (
   id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
   workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   email TEXT NOT NULL,
   full_name TEXT,
   avatar_url TEXT,
   role TEXT NOT NULL DEFAULT 'agent' CHECK (role IN ('admin', 'agent')),
   created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
   updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
   CONSTRAINT unique_user_email_in_workspace UNIQUE (workspace_id, email)
);
CREATE INDEX idx_users_workspace_id ON users(workspace_id);

-- CORE ENTITIES: ACCOUNTS & CONTACTS
CREATE TABLE accounts (
   id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
   workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   name TEXT NOT NULL,
   website TEXT,
   industry TEXT,
   employee_count INT,
   address TEXT,
   custom_fields JSONB,
   summary_embedding VECTOR(1024),
   created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
   updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
   owner_id UUID REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX idx_accounts_workspace_id ON accounts(workspace_id);
CREATE INDEX idx_accounts_owner_id ON accounts(owner_id);
CREATE INDEX idx_accounts_workspace_name ON accounts(workspace_id, name);
CREATE INDEX idx_accounts_summary_embedding_hnsw ON accounts USING hnsw (summary_embedding vector_ip_ops) WITH (m = 32, ef_construction = 128);

CREATE TYPE contact_lifecycle_stage AS ENUM ('lead', 'opportunity_contact', 'customer', 'churned');

CREATE TABLE contacts (
   id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
   workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   account_id UUID REFERENCES accounts(id) ON DELETE SET NULL,
   first_name TEXT,
   last_name TEXT,
   email TEXT,
   phone TEXT,
   job_title TEXT,
   lifecycle_stage contact_lifecycle_stage NOT NULL DEFAULT 'lead',
   custom_fields JSONB,
   summary_embedding VECTOR(1024),
   created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
   updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
   owner_id UUID REFERENCES users(id) ON DELETE SET NULL
);
ALTER TABLE contacts ADD CONSTRAINT unique_contact_email_in_workspace UNIQUE (workspace_id, email);
CREATE INDEX idx_contacts_workspace_id ON contacts(workspace_id);
CREATE INDEX idx_contacts_account_id ON contacts(account_id);
CREATE INDEX idx_contacts_owner_id ON contacts(owner_id);
CREATE INDEX idx_contacts_lifecycle_stage ON contacts(lifecycle_stage);
CREATE INDEX idx_contacts_workspace_stage_created ON contacts(workspace_id, lifecycle_stage, created_at DESC);
CREATE INDEX idx_contacts_workspace_owner ON contacts(workspace_id, owner_id);
CREATE INDEX idx_contacts_summary_embedding_hnsw ON contacts USING hnsw (summary_embedding vector_ip_ops) WITH (m = 32, ef_construction = 128);

-- SALES PIPELINE
CREATE TYPE opportunity_stage AS ENUM ('prospecting', 'qualification', 'proposal', 'negotiation', 'closed_won', 'closed_lost');

CREATE TABLE opportunities (
   id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
   workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   name TEXT NOT NULL,
   account_id UUID REFERENCES accounts(id) ON DELETE CASCADE,
   contact_id UUID REFERENCES contacts(id) ON DELETE CASCADE,
   stage opportunity_stage NOT NULL DEFAULT 'prospecting',
   amount DECIMAL(12, 2),
   close_date DATE,
   created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
   updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
   owner_id UUID REFERENCES users(id) ON DELETE SET NULL,
   CONSTRAINT chk_opportunity_has_target CHECK (account_id IS NOT NULL OR contact_id IS NOT NULL)
);
CREATE INDEX idx_opportunities_workspace_id ON opportunities(workspace_id);
CREATE INDEX idx_opportunities_account_id ON opportunities(account_id);
CREATE INDEX idx_opportunities_contact_id ON opportunities(contact_id);
CREATE INDEX idx_opportunities_owner_id ON opportunities(owner_id);
CREATE INDEX idx_opportunities_workspace_stage_close ON opportunities(workspace_id, stage, close_date);

CREATE TABLE opportunity_participants (
   opportunity_id UUID NOT NULL REFERENCES opportunities(id) ON DELETE CASCADE,
   contact_id UUID NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
   workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   role TEXT,
   PRIMARY KEY (opportunity_id, contact_id)
);
CREATE INDEX idx_opp_participants_workspace_id ON opportunity_participants(workspace_id);
CREATE INDEX idx_opp_participants_contact_id ON opportunity_participants(contact_id);

-- ACTIVITY STREAM
CREATE TYPE interaction_type AS ENUM ('email', 'call', 'meeting', 'note', 'task_completed');

CREATE TABLE interactions (
   id UUID NOT NULL DEFAULT gen_random_uuid(),
   workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   contact_id UUID REFERENCES contacts(id) ON DELETE CASCADE,
   account_id UUID REFERENCES accounts(id) ON DELETE CASCADE,
   user_id UUID REFERENCES users(id) ON DELETE SET NULL,
   type interaction_type NOT NULL,
   content TEXT,
   interacted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
   metadata JSONB,
   embedding VECTOR(1024),
   PRIMARY KEY (id, interacted_at)
) PARTITION BY RANGE (interacted_at);
CREATE INDEX idx_interactions_workspace_id ON interactions(workspace_id);
CREATE INDEX idx_interactions_contact_id ON interactions(contact_id);
CREATE INDEX idx_interactions_account_id ON interactions(account_id);
CREATE INDEX idx_interactions_user_id ON interactions(user_id);
CREATE INDEX idx_interactions_workspace_interacted_at ON interactions(workspace_id, interacted_at DESC);
CREATE INDEX idx_interactions_embedding_hnsw ON interactions USING hnsw (embedding vector_ip_ops) WITH (m = 32, ef_construction = 128);

CREATE TABLE notes (
   id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
   workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   contact_id UUID REFERENCES contacts(id) ON DELETE CASCADE,
   account_id UUID REFERENCES accounts(id) ON DELETE CASCADE,
   user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
   content TEXT NOT NULL,
   embedding VECTOR(1024),
   created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
   updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
   CONSTRAINT chk_note_has_target CHECK (contact_id IS NOT NULL OR account_id IS NOT NULL)
);
CREATE INDEX idx_notes_workspace_id ON notes(workspace_id);
CREATE INDEX idx_notes_contact_id ON notes(contact_id);
CREATE INDEX idx_notes_account_id ON notes(account_id);
CREATE INDEX idx_notes_user_id ON notes(user_id);
CREATE INDEX idx_notes_embedding_hnsw ON notes USING hnsw (embedding vector_ip_ops) WITH (m = 32, ef_construction = 128);

CREATE TABLE tasks (
   id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
   workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   title TEXT NOT NULL,
   due_date DATE,
   status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed')),
   assigned_to_id UUID REFERENCES users(id) ON DELETE CASCADE,
   contact_id UUID REFERENCES contacts(id) ON DELETE CASCADE,
   account_id UUID REFERENCES accounts(id) ON DELETE CASCADE,
   opportunity_id UUID REFERENCES opportunities(id) ON DELETE CASCADE,
   created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_tasks_workspace_id ON tasks(workspace_id);
CREATE INDEX idx_tasks_assigned_to_id ON tasks(assigned_to_id);
CREATE INDEX idx_tasks_assigned_to_id_pending ON tasks(assigned_to_id) WHERE status = 'pending';
CREATE INDEX idx_tasks_contact_id ON tasks(contact_id);
CREATE INDEX idx_tasks_account_id ON tasks(account_id);
CREATE INDEX idx_tasks_opportunity_id ON tasks(opportunity_id);

CREATE TABLE documents (
   id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
   workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   file_name TEXT NOT NULL,
   file_path TEXT NOT NULL,
   mime_type TEXT,
   file_size_bytes BIGINT,
   uploaded_by_id UUID REFERENCES users(id) ON DELETE SET NULL,
   contact_id UUID REFERENCES contacts(id) ON DELETE CASCADE,
   account_id UUID REFERENCES accounts(id) ON DELETE CASCADE,
   opportunity_id UUID REFERENCES opportunities(id) ON DELETE CASCADE,
   embedding VECTOR(1024),
   created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_documents_workspace_id ON documents(workspace_id);
CREATE INDEX idx_documents_uploaded_by_id ON documents(uploaded_by_id);
CREATE INDEX idx_documents_contact_id ON documents(contact_id);
CREATE INDEX idx_documents_account_id ON documents(account_id);
CREATE INDEX idx_documents_opportunity_id ON documents(opportunity_id);
CREATE INDEX idx_documents_embedding_hnsw ON documents USING hnsw (embedding vector_ip_ops) WITH (m = 32, ef_construction = 128);
