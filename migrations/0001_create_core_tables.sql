-- Organisations, API keys, invoices with their files, idempotency records and the event outbox.

create table orgs (
    id          text primary key,
    name        text not null,
    plan        text not null default 'free',
    created_at  timestamptz not null default now()
);

create table api_keys (
    id            text primary key,
    org_id        text not null references orgs (id) on delete cascade,
    livemode      boolean not null,
    name          text not null default '',
    -- the first characters of the secret, for display; the secret itself is never stored
    prefix        text not null,
    secret_sha256 bytea not null unique,
    scopes        text[] not null default '{}',
    created_at    timestamptz not null default now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
create index api_keys_org on api_keys (org_id, id);

create table invoices (
    id              text primary key,
    org_id          text not null references orgs (id) on delete cascade,
    livemode        boolean not null,
    status          text not null default 'queued'
                    check (status in ('queued', 'processing', 'succeeded', 'failed')),
    review_status   text not null default 'received'
                    check (review_status in ('received', 'approved', 'rejected', 'paid', 'archived')),
    file_name       text not null,
    content_type    text not null,
    file_size       bigint not null,
    file_sha256     text not null,
    file_pages      integer,
    -- the invoice fields as shown (extracted, later corrected by people)
    fields          jsonb not null default '{}',
    error_code      text,
    error_message   text,
    metadata        jsonb not null default '{}',
    schema_id       text,
    duplicate_of    text,
    idempotency_key text,
    -- the extraction job lives on the row: written with the upload, swept when overdue
    attempts        integer not null default 0,
    enqueued_at     timestamptz not null default now(),
    lease_expires_at timestamptz,
    task_id         text,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);
-- list newest first per tenant (keyset on id, a ULID sorted by creation time)
create index invoices_tenant_id on invoices (org_id, livemode, id desc);
create index invoices_tenant_status on invoices (org_id, livemode, status, id desc);
create index invoices_tenant_sha on invoices (org_id, livemode, file_sha256);
-- a retried upload never creates a second invoice, even if the idempotency record was lost
create unique index invoices_idempotency on invoices (org_id, livemode, idempotency_key)
    where idempotency_key is not null;
-- the sweeper's two questions: what waits too long, what overran its lease
create index invoices_queued on invoices (enqueued_at) where status = 'queued';
create index invoices_processing on invoices (lease_expires_at) where status = 'processing';

-- file bytes, behind common.storage (object storage can replace this table)
create table invoice_files (
    invoice_id  text primary key references invoices (id) on delete cascade,
    data        bytea not null
);

create table idempotency_keys (
    org_id        text not null references orgs (id) on delete cascade,
    livemode      boolean not null,
    key           text not null,
    request_hash  text not null,
    status_code   integer,
    response_body bytea,
    content_type  text,
    created_at    timestamptz not null default now(),
    completed_at  timestamptz,
    primary key (org_id, livemode, key)
);
create index idempotency_keys_created on idempotency_keys (created_at);

-- the outbox: one row per state change, written in the transaction that made the change
create table events (
    id          text primary key,
    org_id      text not null references orgs (id) on delete cascade,
    livemode    boolean not null,
    type        text not null,
    object_id   text,
    data        jsonb not null,
    created_at  timestamptz not null default now()
);
create index events_tenant on events (org_id, livemode, id desc);
