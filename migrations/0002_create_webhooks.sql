-- Webhook endpoints and their deliveries (the outbox's fan-out, one row per endpoint and event).

create table webhook_endpoints (
    id               text primary key,
    org_id           text not null references orgs (id) on delete cascade,
    livemode         boolean not null,
    url              text not null,
    description      text not null default '',
    -- empty: every event type
    events           text[] not null default '{}',
    enabled          boolean not null default true,
    disabled_reason  text,
    -- needed in clear to sign; shown to the client only on create and rotate
    secret           text not null,
    previous_secret  text,
    previous_secret_expires_at timestamptz,
    -- start of the current run of failures; three days of it disables the endpoint
    failing_since    timestamptz,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now()
);
create index webhook_endpoints_tenant on webhook_endpoints (org_id, livemode, id desc);

create table webhook_deliveries (
    id               text primary key,
    endpoint_id      text not null references webhook_endpoints (id) on delete cascade,
    event_id         text not null references events (id) on delete cascade,
    -- events of one object reach one endpoint in order: a delivery waits while an earlier
    -- one with the same key is pending or being sent
    ordering_key     text not null,
    status           text not null default 'pending'
                     check (status in ('pending', 'sending', 'succeeded', 'failed')),
    attempts         integer not null default 0,
    next_attempt_at  timestamptz not null default now(),
    lease_expires_at timestamptz,
    task_id          text,
    last_attempt_at  timestamptz,
    response_status  integer,
    response_body    text,
    duration_ms      integer,
    last_error       text,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now()
);
create index webhook_deliveries_due on webhook_deliveries (next_attempt_at)
    where status = 'pending';
create index webhook_deliveries_sending on webhook_deliveries (lease_expires_at)
    where status = 'sending';
create index webhook_deliveries_chain on webhook_deliveries (endpoint_id, ordering_key, id)
    where status in ('pending', 'sending');
create index webhook_deliveries_endpoint on webhook_deliveries (endpoint_id, id desc);

-- every attempt, for the delivery log
create table webhook_attempts (
    delivery_id      text not null references webhook_deliveries (id) on delete cascade,
    attempt          integer not null,
    attempted_at     timestamptz not null default now(),
    response_status  integer,
    response_body    text,
    duration_ms      integer,
    error            text,
    primary key (delivery_id, attempt)
);
