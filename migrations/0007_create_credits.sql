-- Credits: one row per organisation. `used` counts the pages of live uploads taken from the
-- plan's monthly allotment in `period` (the first day of a UTC month; a new month starts at
-- 0); `top_up` is what is left of the pages an operator added, which never expire. The
-- allotment itself is in the code (common/plans.py), by orgs.plan.
create table credit_balances (
    org_id      text primary key references orgs (id) on delete cascade,
    period      date not null,
    used        integer not null default 0 check (used >= 0),
    top_up      integer not null default 0 check (top_up >= 0),
    updated_at  timestamptz not null default now()
);
