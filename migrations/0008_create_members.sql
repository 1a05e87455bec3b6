-- Members: the people of an organisation, with a role; an API key may act for one of them.
-- Members belong to the organisation, across its live and test modes (as keys do).

create table members (
    id              text primary key,
    org_id          text not null references orgs (id) on delete cascade,
    email           text not null,
    name            text not null default '',
    role            text not null check (role in ('owner', 'admin', 'member', 'viewer')),
    status          text not null default 'pending'
                    check (status in ('pending', 'active', 'inactive')),
    -- the key that sent the invitation (null when an operator did, or the key is gone)
    invited_by_key_id text references api_keys (id) on delete set null,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    activated_at    timestamptz,
    deactivated_at  timestamptz
);
-- one member per address and organisation, whatever its case
create unique index members_org_email on members (org_id, lower(email));
-- the list, newest first, with and without the status filter
create index members_org_id on members (org_id, id desc);
create index members_org_status on members (org_id, status, id desc);

-- A key tied to a member works only while that member is active, and never beyond its role.
alter table api_keys add column member_id text references members (id);
create index api_keys_member on api_keys (member_id) where member_id is not null;
