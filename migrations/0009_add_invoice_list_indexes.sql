-- Indexes for the filters of GET /v1/invoices (common/invoices/repository.py
-- list_invoices_query), measured by bench/invoice_list_scale.py on 1,000,000 invoices.
-- No filter, `status` and a cursor have theirs already (0001), and the creation-time filters
-- use the ID's (the query bounds the ID too). Each expression below is the query's,
-- character for character, or the planner cannot match it.
--
-- Plain CREATE INDEX: a migration is one transaction, which CONCURRENTLY cannot run in. It
-- blocks writes to invoices while it builds (about half a minute per million invoices on
-- two busy cores; the bench prints it).

-- vendor: `fields->>'vendor_name' ilike '%...%'`, a case-insensitive substring, which only
-- trigrams can serve (pg_trgm is a trusted extension: the database owner may create it).
-- Across tenants: the few matches are filtered by organisation after.
create extension if not exists pg_trgm;
create index invoices_vendor_trgm on invoices
    using gin ((fields->>'vendor_name') gin_trgm_ops);

-- currency: equality, then newest first straight from the index
create index invoices_tenant_currency on invoices
    (org_id, livemode, (fields->>'currency'), id desc);

-- invoice date range (ISO dates compare as text): the planner takes it when few invoices
-- fall in the range, where reading newest first would go through most of the table
create index invoices_tenant_invoice_date on invoices
    (org_id, livemode, (fields->>'invoice_date'));

-- The planner knows nothing of an expression until it is analysed; without this it would
-- guess the new indexes' selectivity until autovacuum comes by.
analyze invoices;
