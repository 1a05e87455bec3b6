-- Extraction schemas (custom fields), and the indexes duplicate detection needs.

create table extraction_schemas (
    id          text primary key,
    org_id      text not null references orgs (id) on delete cascade,
    livemode    boolean not null,
    name        text not null,
    -- [{name, type: string|number|money|date, labels: [..], pattern}]
    fields      jsonb not null default '[]',
    is_default  boolean not null default false,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);
create index extraction_schemas_tenant on extraction_schemas (org_id, livemode, id desc);
create unique index extraction_schemas_one_default on extraction_schemas (org_id, livemode)
    where is_default;

-- the same file again: the first upload with this checksum, found without a sort
create index invoices_tenant_sha_id on invoices (org_id, livemode, file_sha256, id);
drop index invoices_tenant_sha;
-- the same invoice again (vendor + number + total): candidates by number
create index invoices_tenant_number on invoices (org_id, livemode, (fields->>'invoice_number'))
    where status = 'succeeded';
