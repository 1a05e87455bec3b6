-- Quotes and purchase orders (issue 23): the documents an invoice is checked against.
-- One table for both kinds (their fields are the same; the states differ). A quote comes
-- from an upload the extractor classified `quote`; a purchase order from an upload or from
-- an ERP (POST /v1/purchase-orders). Lines are kept as JSON as the extractor gives them,
-- amounts in minor units. Each invoice matched against a document has a row in
-- commercial_document_invoices, so several invoices against one order accumulate, and a
-- reprocessed invoice replaces its own row instead of counting twice.

create table commercial_documents (
    id              text primary key,
    org_id          text not null references orgs (id) on delete cascade,
    livemode        boolean not null,
    kind            text not null check (kind in ('quote', 'purchase_order')),
    status          text not null,
    source          text not null check (source in ('upload', 'api')),
    -- the upload it was extracted from
    invoice_id      text references invoices (id) on delete set null,
    number          text,
    vendor_name     text,
    vendor_tax_id   text,
    customer_name   text,
    currency        text,
    document_date   date,
    valid_until     date,
    subtotal_amount bigint,
    tax_amount      bigint,
    total_amount    bigint,
    lines           jsonb not null default '[]',
    metadata        jsonb not null default '{}',
    status_reason   text,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    check (
        (kind = 'quote' and status in ('received', 'accepted', 'rejected', 'expired'))
        or (kind = 'purchase_order'
            and status in ('open', 'partially_invoiced', 'invoiced', 'closed'))
    )
);

-- GET /v1/quotes and /v1/purchase-orders: newest first, with a status filter (keyset on id).
create index commercial_documents_list on commercial_documents
    (org_id, livemode, kind, status, id desc);
create index commercial_documents_list_all on commercial_documents (org_id, livemode, kind, id desc);
-- Matching: a purchase order by its number.
create index commercial_documents_number on commercial_documents
    (org_id, livemode, kind, lower(number));
-- One upload is one document.
create unique index commercial_documents_invoice on commercial_documents (invoice_id);
-- The sweeper: received quotes past their validity.
create index commercial_documents_expiring on commercial_documents (valid_until)
    where kind = 'quote' and status = 'received';

create table commercial_document_invoices (
    document_id text not null references commercial_documents (id) on delete cascade,
    invoice_id  text not null references invoices (id) on delete cascade,
    -- what this invoice bills against the document: its amount (net when the document has
    -- a net total, else gross) and quantity per document line ({"0": "4", ...})
    amount      bigint not null,
    quantities  jsonb not null default '{}',
    created_at  timestamptz not null default now(),
    primary key (document_id, invoice_id)
);

create index commercial_document_invoices_invoice on commercial_document_invoices (invoice_id);

-- Tolerances for matching, per organisation (both modes); no row: the defaults.
create table matching_settings (
    org_id         text primary key references orgs (id) on delete cascade,
    price_percent  numeric(6, 2) not null default 1.00,
    quantity       numeric(12, 3) not null default 0,
    amount         bigint not null default 100,
    auto_approve   boolean not null default false,
    updated_at     timestamptz not null default now()
);
