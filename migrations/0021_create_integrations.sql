-- Accounting integrations (Xero, QuickBooks Online): one connection per organisation, mode
-- and provider, its OAuth tokens encrypted by the application (common/secretbox.py); the
-- pending authorizations (state and PKCE verifier, single-use, expiring); the per-provider
-- mapping of tax rates to tax codes; and the publications of invoices (the row is the job
-- of queue `publish`; its external_id is what stops a second bill).

create table integrations (
    org_id            text not null references orgs (id) on delete cascade,
    livemode          boolean not null,
    provider          text not null check (provider in ('xero', 'quickbooks')),
    status            text not null default 'connected'
                      check (status in ('connected', 'revoked', 'disconnected')),
    -- Fernet tokens (common/secretbox.encrypt); never returned, never logged
    access_token      text,
    refresh_token     text,
    expires_at        timestamptz,
    tenant_id         text,            -- Xero tenantId; QuickBooks realmId
    company_name      text,
    last_sync         timestamptz,
    last_error        text,
    connected_at      timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    primary key (org_id, livemode, provider)
);

create table integration_authorizations (
    -- SHA-256 of the `state` sent to the provider: a leaked table row cannot complete a flow
    state_hash        bytea primary key,
    org_id            text not null references orgs (id) on delete cascade,
    livemode          boolean not null,
    provider          text not null,
    code_verifier     text not null,   -- encrypted, as the tokens
    expires_at        timestamptz not null
);

-- The sweeper's expiry of abandoned authorizations.
create index integration_authorizations_expiring on integration_authorizations (expires_at);

create table integration_mappings (
    org_id            text not null references orgs (id) on delete cascade,
    livemode          boolean not null,
    provider          text not null check (provider in ('xero', 'quickbooks')),
    -- {"19.00": "INPUT2", ...}: the invoice's tax rate (a decimal string) to the code
    tax_codes         jsonb not null default '{}',
    expense_account   text,
    updated_at        timestamptz not null default now(),
    primary key (org_id, livemode, provider)
);

create table publications (
    id                text primary key,
    org_id            text not null references orgs (id) on delete cascade,
    livemode          boolean not null,
    invoice_id        text not null references invoices (id) on delete cascade,
    target            text not null check (target in ('xero', 'quickbooks')),
    status            text not null default 'queued'
                      check (status in ('queued', 'running', 'succeeded', 'failed')),
    -- the bill in the provider, stored as soon as it exists: a second run never creates one
    external_id       text,
    vendor_id         text,
    attachment_id     text,
    attempts          integer not null default 0,
    task_id           text,
    lease_expires_at  timestamptz,
    error_code        text,
    error_message     text,
    enqueued_at       timestamptz not null default now(),
    created_at        timestamptz not null default now(),
    published_at      timestamptz,
    unique (invoice_id, target)
);

-- The sweeper: queued rows whose task may be lost, running rows whose lease ran out.
create index publications_unfinished on publications (enqueued_at)
    where status in ('queued', 'running');

-- What the invoice shows: [{target, external_id, published_at}], kept with the publication
-- in the same transaction so that every read of an invoice has it without a join.
alter table invoices add column published jsonb not null default '[]';
