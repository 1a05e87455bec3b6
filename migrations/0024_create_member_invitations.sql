-- Invitation links: a member invited in the web app sets its own password through a
-- one-time link, which activates it.
create table member_invitations (
    -- SHA-256 of the link's random secret: a copy of this table opens no invitation
    token_sha256  text primary key,
    member_id     text not null references members (id) on delete cascade,
    created_at    timestamptz not null default now(),
    expires_at    timestamptz not null,
    used_at       timestamptz
);
create index member_invitations_member on member_invitations (member_id);
