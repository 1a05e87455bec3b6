-- Intake beyond the API (issue 21): where an invoice came from, IMAP mailboxes polled per
-- organisation, and the messages they took. A message row is written in the same
-- transaction as the invoices its attachments made, and its unique keys are what make a
-- message taken once, whatever restarts or concurrent pollers do.

alter table invoices add column source_channel text not null default 'api'
    check (source_channel in ('api', 'email', 'folder'));

create table mailboxes (
    id                  text primary key,
    org_id              text not null references orgs (id) on delete cascade,
    livemode            boolean not null,
    name                text not null default '',
    host                text not null,
    port                integer not null check (port between 1 and 65535),
    username            text not null,
    -- common/secretbox.encrypt: never returned, never logged
    password_encrypted  text not null,
    folder              text not null default 'INBOX',
    allowed_senders     text[] not null default '{}',
    after_processing    text not null default 'seen'
                        check (after_processing in ('seen', 'flagged', 'move')),
    processed_folder    text,
    -- PEM of a CA to trust besides the system's (a private mail server's own CA)
    ca_certificate      text,
    enabled             boolean not null default true,
    next_poll_at        timestamptz not null default now(),
    failures            integer not null default 0,
    last_polled_at      timestamptz,
    last_error          text,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    check (after_processing <> 'move' or processed_folder is not null)
);

-- GET /v1/mailboxes: newest first (keyset on id).
create index mailboxes_org_list on mailboxes (org_id, livemode, id desc);
-- beat's dispatcher: enabled mailboxes whose poll is due.
create index mailboxes_due on mailboxes (next_poll_at) where enabled;

create table mail_messages (
    id              bigint generated always as identity primary key,
    mailbox_id      text not null references mailboxes (id) on delete cascade,
    org_id          text not null,
    livemode        boolean not null,
    uidvalidity     bigint not null,
    uid             bigint not null,
    message_id      text,
    -- taken: made invoice_ids; skipped: nothing to take (no attachment, sender not
    -- allowed); rejected: hostile or malformed, with the reason
    outcome         text not null check (outcome in ('taken', 'skipped', 'rejected')),
    reason          text,
    invoice_ids     text[] not null default '{}',
    created_at      timestamptz not null default now()
);

-- A message is taken once by its place in the folder...
create unique index mail_messages_uid on mail_messages (mailbox_id, uidvalidity, uid);
-- ...and once by its Message-ID (the same mail again after a UIDVALIDITY change or a copy).
create unique index mail_messages_message_id on mail_messages (mailbox_id, message_id)
    where message_id is not null;
