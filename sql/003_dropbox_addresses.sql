-- 003_dropbox_addresses.sql: the BCC-to-CRM dropbox. Mail to one of these
-- addresses is logged into the workspace that owns it. An address routes
-- to one workspace only, so it is unique across all of them.
CREATE TABLE workspace_addresses (
   address TEXT PRIMARY KEY CHECK (address = lower(address)),
   workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
   created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_workspace_addresses_workspace_id ON workspace_addresses(workspace_id);
