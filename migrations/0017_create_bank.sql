-- Bank statements and reconciliation (issue 18). A statement row is the job: written by
-- POST /v1/bank/statements with its file, claimed by the worker on queue `bank`, re-sent or
-- taken back by the sweeper; parsing fills its account, period, balances and transactions.
-- Reconciliation writes matches between transactions and invoices; an applied match paid
-- its invoice and remembers the review status it had, so undoing it restores that.

create table bank_statements (
    id                  text primary key,
    org_id              text not null references orgs (id) on delete cascade,
    livemode            boolean not null,
    status              text not null default 'queued'
                        check (status in ('queued', 'processing', 'processed', 'failed')),
    format              text,
    file_name           text not null,
    file_size           integer not null,
    file_sha256         text not null,
    mapping             jsonb,
    account_iban        text,
    currency            text,
    statement_reference text,
    period_start        date,
    period_end          date,
    opening_balance     bigint,
    closing_balance     bigint,
    transaction_count   integer,
    duplicate_count     integer,
    -- a statement already imported (same account and statement reference)
    duplicate_of        text references bank_statements (id) on delete set null,
    error_code          text,
    error_message       text,
    attempts            integer not null default 0,
    task_id             text,
    lease_expires_at    timestamptz,
    enqueued_at         timestamptz not null default now(),
    created_at          timestamptz not null default now(),
    processed_at        timestamptz
);

-- The same file twice is the same statement: the second upload answers with the first.
create unique index bank_statements_same_file on bank_statements (org_id, livemode, file_sha256);
-- GET /v1/bank/statements: newest first (keyset on id).
create index bank_statements_org_list on bank_statements (org_id, livemode, id desc);
-- The worker: an earlier statement of the same account with the same reference.
create index bank_statements_reference on bank_statements
    (org_id, livemode, account_iban, statement_reference) where status = 'processed';
-- The sweeper: queued rows whose task may be lost, running rows whose lease ran out.
create index bank_statements_unfinished on bank_statements (enqueued_at)
    where status in ('queued', 'processing');

create table bank_statement_files (
    statement_id text primary key references bank_statements (id) on delete cascade,
    data         bytea not null
);

create table bank_transactions (
    id                   text primary key,
    org_id               text not null references orgs (id) on delete cascade,
    livemode             boolean not null,
    statement_id         text not null references bank_statements (id) on delete cascade,
    account_iban         text not null default '',
    -- the bank's reference, or a digest of the content (with its occurrence in the
    -- statement): the same transaction in a second statement is not imported again
    dedup_key            text not null,
    booking_date         date not null,
    value_date           date,
    amount               bigint not null,
    currency             text not null,
    counterparty_name    text,
    counterparty_iban    text,
    remittance_text      text,
    structured_reference text,
    end_to_end_id        text,
    bank_reference       text,
    reconciliation_status text not null default 'unmatched'
                         check (reconciliation_status in ('unmatched', 'suggested', 'matched')),
    created_at           timestamptz not null default now()
);

create unique index bank_transactions_dedup on bank_transactions
    (org_id, livemode, account_iban, dedup_key);
-- GET /v1/bank/statements/{id}/transactions, in statement order (keyset on id).
create index bank_transactions_statement on bank_transactions (statement_id, id);
-- Reconciliation: a tenant's transactions by booking date.
create index bank_transactions_booking on bank_transactions (org_id, livemode, booking_date);

create table bank_reconciliations (
    id                text primary key,
    org_id            text not null references orgs (id) on delete cascade,
    livemode          boolean not null,
    statement_id      text references bank_statements (id) on delete set null,
    date_from         date,
    date_to           date,
    threshold         numeric(4, 3) not null,
    transaction_count integer not null,
    matched_count     integer not null,
    suggested_count   integer not null,
    unmatched_count   integer not null,
    created_at        timestamptz not null default now()
);

create index bank_reconciliations_org_list on bank_reconciliations (org_id, livemode, id desc);

create table bank_matches (
    id                 text primary key,
    org_id             text not null references orgs (id) on delete cascade,
    livemode           boolean not null,
    reconciliation_id  text references bank_reconciliations (id) on delete set null,
    transaction_id     text not null references bank_transactions (id) on delete cascade,
    invoice_id         text not null references invoices (id) on delete cascade,
    -- the part of the payment given to this invoice, in the transaction's currency
    amount             bigint not null,
    score              numeric(4, 3) not null,
    reasons            jsonb not null default '[]',
    status             text not null check (status in ('applied', 'suggested', 'undone')),
    source             text not null check (source in ('automatic', 'manual')),
    -- the invoice's review status before this match paid it (undo restores it)
    previous_review_status text,
    created_at         timestamptz not null default now(),
    applied_at         timestamptz,
    undone_at          timestamptz
);

create index bank_matches_transaction on bank_matches (transaction_id) where status <> 'undone';
create index bank_matches_invoice on bank_matches (invoice_id) where status <> 'undone';
create index bank_matches_reconciliation on bank_matches (reconciliation_id, id);
