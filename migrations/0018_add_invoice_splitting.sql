-- A file that holds several documents becomes one invoice per document (issue 21).
-- split_from: on a child, {"invoice": parent id, "first_page": n, "last_page": m} (1-based);
-- the parent lists its children in its fields (`split_into`), written by its extraction.
alter table invoices add column split_from jsonb;
-- Whether the extraction may split this file: the upload's `split` (children: false).
alter table invoices add column split_documents boolean not null default true;
-- The organisation's default for uploads that do not say.
alter table orgs add column split_documents boolean not null default true;

create index invoices_split_from on invoices ((split_from ->> 'invoice'))
    where split_from is not null;
