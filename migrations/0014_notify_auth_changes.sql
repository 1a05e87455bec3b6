-- API processes keep the principals they have read (common/accounts/principal_cache.py) and
-- must forget them when anything that decides one changes, whoever changes it: the API,
-- the CLI or someone with psql. These triggers send one NOTIFY on `invex_auth_changed` per
-- statement that changes such a column; every API process listens and empties its cache.
-- The notification is sent at commit, and never for a rolled-back change.
--
-- `update of` lists the columns a principal is made of: the key lookup's own
-- `last_used_at` update, and a member's name, fire nothing.

create function invex_notify_auth_changed() returns trigger language plpgsql as $$
begin
    perform pg_notify('invex_auth_changed', '');
    return null;
end
$$;

create trigger api_keys_auth_changed
    after update of org_id, livemode, scopes, revoked_at, member_id, secret_sha256 or delete
    on api_keys for each statement execute function invex_notify_auth_changed();
create trigger api_keys_auth_truncated
    after truncate on api_keys for each statement execute function invex_notify_auth_changed();

create trigger members_auth_changed
    after update of org_id, role, status or delete
    on members for each statement execute function invex_notify_auth_changed();
create trigger members_auth_truncated
    after truncate on members for each statement execute function invex_notify_auth_changed();

create trigger orgs_auth_changed
    after update of plan, api_version or delete
    on orgs for each statement execute function invex_notify_auth_changed();
create trigger orgs_auth_truncated
    after truncate on orgs for each statement execute function invex_notify_auth_changed();
