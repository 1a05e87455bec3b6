-- Order within a delivery chain by insertion, not by ID: two IDs made in the same millisecond
-- (ULIDs) do not sort by creation, and a chain's order must never depend on that.
alter table webhook_deliveries add column seq bigint generated always as identity;
drop index webhook_deliveries_chain;
create index webhook_deliveries_chain on webhook_deliveries (endpoint_id, ordering_key, seq)
    where status in ('pending', 'sending');
