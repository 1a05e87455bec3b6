-- The web app: members sign in with a password (argon2id) and hold server-side sessions.

alter table members add column password_hash text;
alter table members add column password_set_at timestamptz;
-- sign-in finds a member by email across organisations
create index members_sign_in on members (lower(email)) where password_hash is not null;

create table web_sessions (
    -- SHA-256 of the cookie's random secret: a copy of this table signs nobody in
    id_sha256     text primary key,
    member_id     text not null references members (id) on delete cascade,
    org_id        text not null references orgs (id) on delete cascade,
    -- every form and POST carries it (compared in constant time)
    csrf_token    text not null,
    created_at    timestamptz not null default now(),
    last_seen_at  timestamptz not null default now(),
    expires_at    timestamptz not null,
    ip            text,
    user_agent    text
);
create index web_sessions_member on web_sessions (member_id);
create index web_sessions_expires on web_sessions (expires_at);
