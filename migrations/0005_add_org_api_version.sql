-- Each organisation's default dated API version (Invex-Version overrides it per request).
alter table orgs add column api_version text not null default '2026-11-01';
