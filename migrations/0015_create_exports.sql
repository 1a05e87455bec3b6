-- Exports: a request to write a tenant's invoices (the list's filters) into one file of an
-- accounting format. The row is the job (written by POST /v1/exports, claimed by the worker
-- on queue `exports`, re-sent or taken back by the sweeper); its file lives in
-- export_file_chunks until expires_at, when the sweeper deletes it.

create table exports (
    id               text primary key,
    org_id           text not null references orgs (id) on delete cascade,
    livemode         boolean not null,
    format           text not null,
    filters          jsonb not null default '{}',
    include_files    boolean not null default false,
    bom              boolean not null default false,
    status           text not null default 'queued'
                     check (status in ('queued', 'running', 'succeeded', 'failed')),
    invoice_count    integer,
    size             bigint,
    sha256           text,
    content_type     text,
    file_name        text,
    error_code       text,
    error_message    text,
    attempts         integer not null default 0,
    task_id          text,
    lease_expires_at timestamptz,
    enqueued_at      timestamptz not null default now(),
    created_at       timestamptz not null default now(),
    completed_at     timestamptz,
    expires_at       timestamptz,
    -- set when the sweeper deleted the file at expires_at; the row stays for the record
    file_deleted_at  timestamptz
);

-- GET /v1/exports: a tenant's exports, newest first (keyset on id).
create index exports_org_list on exports (org_id, livemode, id desc);
-- The sweeper: queued rows whose task may be lost, running rows whose lease ran out.
create index exports_unfinished on exports (enqueued_at) where status in ('queued', 'running');
-- The sweeper: files past their expiry.
create index exports_expiring on exports (expires_at)
    where expires_at is not null and file_deleted_at is null;

-- An export's file in 1 MiB pieces, so that neither writing nor serving it (HTTP ranges)
-- ever holds the whole file in memory, whatever its size.
create table export_file_chunks (
    export_id  text not null references exports (id) on delete cascade,
    seq        integer not null,
    data       bytea not null,
    primary key (export_id, seq)
);
