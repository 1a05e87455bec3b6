-- Uploads no longer send an extraction task each after commit; they nudge a dispatcher that
-- claims the queued invoices whose task has not been sent yet and sends them in batches
-- (common/invoices/service.py dispatch_extractions).

-- null: the extraction task for the invoice's current queued state has not yet been handed
-- to the broker (the dispatcher will); set when the dispatcher or the sweeper sends it
alter table invoices add column dispatched_at timestamptz;

-- Invoices queued now had their task sent the old way, by the upload. Only those rows (found
-- by invoices_queued): the finished ones, most of the table, keep null and never match below.
update invoices set dispatched_at = enqueued_at where status = 'queued';

-- The dispatcher's claim, oldest first. Holds only the invoices waiting for it, so it stays
-- a few pages however large the table grows. Plain CREATE INDEX (a migration is one
-- transaction): it blocks writes to invoices while it reads the table once.
create index invoices_undispatched on invoices (id) where status = 'queued' and dispatched_at is null;
