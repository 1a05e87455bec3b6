-- Review workflow: the extracted originals beside the corrected fields, comments, history.

-- what extraction produced, kept when people correct `fields`
alter table invoices add column extracted jsonb;
update invoices set extracted = fields where status = 'succeeded';

create table invoice_comments (
    id          text primary key,
    invoice_id  text not null references invoices (id) on delete cascade,
    key_id      text,
    body        text not null,
    created_at  timestamptz not null default now()
);
create index invoice_comments_invoice on invoice_comments (invoice_id, id desc);

-- the audit trail: one row per changed field or workflow move
create table invoice_history (
    id          bigint generated always as identity primary key,
    invoice_id  text not null references invoices (id) on delete cascade,
    org_id      text not null,
    livemode    boolean not null,
    kind        text not null check (kind in ('correction', 'transition', 'extraction')),
    field       text not null,
    old_value   jsonb,
    new_value   jsonb,
    reason      text,
    key_id      text,
    created_at  timestamptz not null default now()
);
create index invoice_history_invoice on invoice_history (invoice_id, id desc);
create index invoice_history_corrections on invoice_history (org_id, livemode, created_at)
    where kind = 'correction';
