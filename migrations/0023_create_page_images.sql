-- The web app's page images: each page of a stored file rendered once, then served from here.
-- Keyed by the file's SHA-256, so the same file uploaded twice is rendered once; only a
-- page of an invoice the caller may read is ever looked up.
create table page_images (
    file_sha256  text not null,
    page         integer not null check (page >= 1),
    dpi          integer not null check (dpi between 36 and 300),
    png          bytea not null,
    width        integer not null,
    height       integer not null,
    created_at   timestamptz not null default now(),
    primary key (file_sha256, page, dpi)
);
