-- The schema migrations/*.sql build: `python -m common.migrations dump-schema` writes
-- this file, `python -m common.migrations check-schema` (make migrations-check) compares.
-- PostgreSQL major version: 15

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

COMMENT ON EXTENSION pg_trgm IS 'text similarity measurement and index searching based on trigrams';

CREATE FUNCTION public.invex_new_id(prefix text) RETURNS text
    LANGUAGE sql PARALLEL SAFE
    AS $$
    select prefix || '_' || string_agg(
        substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', substring(ulid from n * 5 + 1 for 5)::int + 1, 1),
        '' order by n)
    from (
        select B'00'
            || floor(extract(epoch from clock_timestamp()) * 1000)::bigint::bit(48)
            || ('x' || encode(substr(u, 1, 6) || substr(u, 11, 4), 'hex'))::bit(80) as ulid
        from (select uuid_send(gen_random_uuid()) as u) as random
    ) as bits, generate_series(0, 25) as n
$$;

CREATE FUNCTION public.invex_notify_auth_changed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
    perform pg_notify('invex_auth_changed', '');
    return null;
end
$$;

CREATE TABLE public.api_keys (
    id text NOT NULL,
    org_id text NOT NULL,
    livemode boolean NOT NULL,
    name text DEFAULT ''::text NOT NULL,
    prefix text NOT NULL,
    secret_sha256 bytea NOT NULL,
    scopes text[] DEFAULT '{}'::text[] NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone,
    member_id text
);

CREATE TABLE public.bank_matches (
    id text NOT NULL,
    org_id text NOT NULL,
    livemode boolean NOT NULL,
    reconciliation_id text,
    transaction_id text NOT NULL,
    invoice_id text NOT NULL,
    amount bigint NOT NULL,
    score numeric(4,3) NOT NULL,
    reasons jsonb DEFAULT '[]'::jsonb NOT NULL,
    status text NOT NULL,
    source text NOT NULL,
    previous_review_status text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    applied_at timestamp with time zone,
    undone_at timestamp with time zone,
    CONSTRAINT bank_matches_source_check CHECK ((source = ANY (ARRAY['automatic'::text, 'manual'::text]))),
    CONSTRAINT bank_matches_status_check CHECK ((status = ANY (ARRAY['applied'::text, 'suggested'::text, 'undone'::text])))
);

CREATE TABLE public.bank_reconciliations (
    id text NOT NULL,
    org_id text NOT NULL,
    livemode boolean NOT NULL,
    statement_id text,
    date_from date,
    date_to date,
    threshold numeric(4,3) NOT NULL,
    transaction_count integer NOT NULL,
    matched_count integer NOT NULL,
    suggested_count integer NOT NULL,
    unmatched_count integer NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.bank_statement_files (
    statement_id text NOT NULL,
    data bytea NOT NULL
);

CREATE TABLE public.bank_statements (
    id text NOT NULL,
    org_id text NOT NULL,
    livemode boolean NOT NULL,
    status text DEFAULT 'queued'::text NOT NULL,
    format text,
    file_name text NOT NULL,
    file_size integer NOT NULL,
    file_sha256 text NOT NULL,
    mapping jsonb,
    account_iban text,
    currency text,
    statement_reference text,
    period_start date,
    period_end date,
    opening_balance bigint,
    closing_balance bigint,
    transaction_count integer,
    duplicate_count integer,
    duplicate_of text,
    error_code text,
    error_message text,
    attempts integer DEFAULT 0 NOT NULL,
    task_id text,
    lease_expires_at timestamp with time zone,
    enqueued_at timestamp with time zone DEFAULT now() NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    processed_at timestamp with time zone,
    CONSTRAINT bank_statements_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'processing'::text, 'processed'::text, 'failed'::text])))
);

CREATE TABLE public.bank_transactions (
    id text NOT NULL,
    org_id text NOT NULL,
    livemode boolean NOT NULL,
    statement_id text NOT NULL,
    account_iban text DEFAULT ''::text NOT NULL,
    dedup_key text NOT NULL,
    booking_date date NOT NULL,
    value_date date,
    amount bigint NOT NULL,
    currency text NOT NULL,
    counterparty_name text,
    counterparty_iban text,
    remittance_text text,
    structured_reference text,
    end_to_end_id text,
    bank_reference text,
    reconciliation_status text DEFAULT 'unmatched'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT bank_transactions_reconciliation_status_check CHECK ((reconciliation_status = ANY (ARRAY['unmatched'::text, 'suggested'::text, 'matched'::text])))
);

CREATE TABLE public.commercial_document_invoices (
    document_id text NOT NULL,
    invoice_id text NOT NULL,
    amount bigint NOT NULL,
    quantities jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.commercial_documents (
    id text NOT NULL,
    org_id text NOT NULL,
    livemode boolean NOT NULL,
    kind text NOT NULL,
    status text NOT NULL,
    source text NOT NULL,
    invoice_id text,
    number text,
    vendor_name text,
    vendor_tax_id text,
    customer_name text,
    currency text,
    document_date date,
    valid_until date,
    subtotal_amount bigint,
    tax_amount bigint,
    total_amount bigint,
    lines jsonb DEFAULT '[]'::jsonb NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    status_reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT commercial_documents_check CHECK ((((kind = 'quote'::text) AND (status = ANY (ARRAY['received'::text, 'accepted'::text, 'rejected'::text, 'expired'::text]))) OR ((kind = 'purchase_order'::text) AND (status = ANY (ARRAY['open'::text, 'partially_invoiced'::text, 'invoiced'::text, 'closed'::text]))))),
    CONSTRAINT commercial_documents_kind_check CHECK ((kind = ANY (ARRAY['quote'::text, 'purchase_order'::text]))),
    CONSTRAINT commercial_documents_source_check CHECK ((source = ANY (ARRAY['upload'::text, 'api'::text])))
);

CREATE TABLE public.credit_balances (
    org_id text NOT NULL,
    period date NOT NULL,
    used integer DEFAULT 0 NOT NULL,
    top_up integer DEFAULT 0 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT credit_balances_top_up_check CHECK ((top_up >= 0)),
    CONSTRAINT credit_balances_used_check CHECK ((used >= 0))
);

CREATE TABLE public.events (
    id text NOT NULL,
    org_id text NOT NULL,
    livemode boolean NOT NULL,
    type text NOT NULL,
    object_id text,
    data jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.export_file_chunks (
    export_id text NOT NULL,
    seq integer NOT NULL,
    data bytea NOT NULL
);

CREATE TABLE public.exports (
    id text NOT NULL,
    org_id text NOT NULL,
    livemode boolean NOT NULL,
    format text NOT NULL,
    filters jsonb DEFAULT '{}'::jsonb NOT NULL,
    include_files boolean DEFAULT false NOT NULL,
    bom boolean DEFAULT false NOT NULL,
    status text DEFAULT 'queued'::text NOT NULL,
    invoice_count integer,
    size bigint,
    sha256 text,
    content_type text,
    file_name text,
    error_code text,
    error_message text,
    attempts integer DEFAULT 0 NOT NULL,
    task_id text,
    lease_expires_at timestamp with time zone,
    enqueued_at timestamp with time zone DEFAULT now() NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    completed_at timestamp with time zone,
    expires_at timestamp with time zone,
    file_deleted_at timestamp with time zone,
    options jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT exports_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'running'::text, 'succeeded'::text, 'failed'::text])))
);

CREATE TABLE public.extraction_schemas (
    id text NOT NULL,
    org_id text NOT NULL,
    livemode boolean NOT NULL,
    name text NOT NULL,
    fields jsonb DEFAULT '[]'::jsonb NOT NULL,
    is_default boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.idempotency_keys (
    org_id text NOT NULL,
    livemode boolean NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    status_code integer,
    response_body bytea,
    content_type text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    completed_at timestamp with time zone
);

CREATE TABLE public.integration_authorizations (
    state_hash bytea NOT NULL,
    org_id text NOT NULL,
    livemode boolean NOT NULL,
    provider text NOT NULL,
    code_verifier text NOT NULL,
    expires_at timestamp with time zone NOT NULL
);

CREATE TABLE public.integration_mappings (
    org_id text NOT NULL,
    livemode boolean NOT NULL,
    provider text NOT NULL,
    tax_codes jsonb DEFAULT '{}'::jsonb NOT NULL,
    expense_account text,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT integration_mappings_provider_check CHECK ((provider = ANY (ARRAY['xero'::text, 'quickbooks'::text])))
);

CREATE TABLE public.integrations (
    org_id text NOT NULL,
    livemode boolean NOT NULL,
    provider text NOT NULL,
    status text DEFAULT 'connected'::text NOT NULL,
    access_token text,
    refresh_token text,
    expires_at timestamp with time zone,
    tenant_id text,
    company_name text,
    last_sync timestamp with time zone,
    last_error text,
    connected_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT integrations_provider_check CHECK ((provider = ANY (ARRAY['xero'::text, 'quickbooks'::text]))),
    CONSTRAINT integrations_status_check CHECK ((status = ANY (ARRAY['connected'::text, 'revoked'::text, 'disconnected'::text])))
);

CREATE TABLE public.invoice_comments (
    id text NOT NULL,
    invoice_id text NOT NULL,
    key_id text,
    body text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.invoice_files (
    invoice_id text NOT NULL,
    data bytea NOT NULL
);

CREATE TABLE public.invoice_history (
    id bigint NOT NULL,
    invoice_id text NOT NULL,
    org_id text NOT NULL,
    livemode boolean NOT NULL,
    kind text NOT NULL,
    field text NOT NULL,
    old_value jsonb,
    new_value jsonb,
    reason text,
    key_id text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT invoice_history_kind_check CHECK ((kind = ANY (ARRAY['correction'::text, 'transition'::text, 'extraction'::text])))
);

ALTER TABLE public.invoice_history ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.invoice_history_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.invoices (
    id text NOT NULL,
    org_id text NOT NULL,
    livemode boolean NOT NULL,
    status text DEFAULT 'queued'::text NOT NULL,
    review_status text DEFAULT 'received'::text NOT NULL,
    file_name text NOT NULL,
    content_type text NOT NULL,
    file_size bigint NOT NULL,
    file_sha256 text NOT NULL,
    file_pages integer,
    fields jsonb DEFAULT '{}'::jsonb NOT NULL,
    error_code text,
    error_message text,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    schema_id text,
    duplicate_of text,
    idempotency_key text,
    attempts integer DEFAULT 0 NOT NULL,
    enqueued_at timestamp with time zone DEFAULT now() NOT NULL,
    lease_expires_at timestamp with time zone,
    task_id text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    extracted jsonb,
    vendor_name text GENERATED ALWAYS AS ((fields ->> 'vendor_name'::text)) STORED,
    currency text GENERATED ALWAYS AS ((fields ->> 'currency'::text)) STORED,
    invoice_date text GENERATED ALWAYS AS ((fields ->> 'invoice_date'::text)) STORED,
    dispatched_at timestamp with time zone,
    split_from jsonb,
    split_documents boolean DEFAULT true NOT NULL,
    source_channel text DEFAULT 'api'::text NOT NULL,
    published jsonb DEFAULT '[]'::jsonb NOT NULL,
    CONSTRAINT invoices_review_status_check CHECK ((review_status = ANY (ARRAY['received'::text, 'approved'::text, 'rejected'::text, 'paid'::text, 'archived'::text]))),
    CONSTRAINT invoices_source_channel_check CHECK ((source_channel = ANY (ARRAY['api'::text, 'email'::text, 'folder'::text]))),
    CONSTRAINT invoices_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'processing'::text, 'succeeded'::text, 'failed'::text])))
);
ALTER TABLE ONLY public.invoices ALTER COLUMN vendor_name SET STATISTICS 1000;

CREATE TABLE public.mail_messages (
    id bigint NOT NULL,
    mailbox_id text NOT NULL,
    org_id text NOT NULL,
    livemode boolean NOT NULL,
    uidvalidity bigint NOT NULL,
    uid bigint NOT NULL,
    message_id text,
    outcome text NOT NULL,
    reason text,
    invoice_ids text[] DEFAULT '{}'::text[] NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT mail_messages_outcome_check CHECK ((outcome = ANY (ARRAY['taken'::text, 'skipped'::text, 'rejected'::text])))
);

ALTER TABLE public.mail_messages ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.mail_messages_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.mailboxes (
    id text NOT NULL,
    org_id text NOT NULL,
    livemode boolean NOT NULL,
    name text DEFAULT ''::text NOT NULL,
    host text NOT NULL,
    port integer NOT NULL,
    username text NOT NULL,
    password_encrypted text NOT NULL,
    folder text DEFAULT 'INBOX'::text NOT NULL,
    allowed_senders text[] DEFAULT '{}'::text[] NOT NULL,
    after_processing text DEFAULT 'seen'::text NOT NULL,
    processed_folder text,
    ca_certificate text,
    enabled boolean DEFAULT true NOT NULL,
    next_poll_at timestamp with time zone DEFAULT now() NOT NULL,
    failures integer DEFAULT 0 NOT NULL,
    last_polled_at timestamp with time zone,
    last_error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT mailboxes_after_processing_check CHECK ((after_processing = ANY (ARRAY['seen'::text, 'flagged'::text, 'move'::text]))),
    CONSTRAINT mailboxes_check CHECK (((after_processing <> 'move'::text) OR (processed_folder IS NOT NULL))),
    CONSTRAINT mailboxes_port_check CHECK (((port >= 1) AND (port <= 65535)))
);

CREATE TABLE public.matching_settings (
    org_id text NOT NULL,
    price_percent numeric(6,2) DEFAULT 1.00 NOT NULL,
    quantity numeric(12,3) DEFAULT 0 NOT NULL,
    amount bigint DEFAULT 100 NOT NULL,
    auto_approve boolean DEFAULT false NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.member_invitations (
    token_sha256 text NOT NULL,
    member_id text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone
);

CREATE TABLE public.members (
    id text NOT NULL,
    org_id text NOT NULL,
    email text NOT NULL,
    name text DEFAULT ''::text NOT NULL,
    role text NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    invited_by_key_id text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    activated_at timestamp with time zone,
    deactivated_at timestamp with time zone,
    password_hash text,
    password_set_at timestamp with time zone,
    CONSTRAINT members_role_check CHECK ((role = ANY (ARRAY['owner'::text, 'admin'::text, 'member'::text, 'viewer'::text]))),
    CONSTRAINT members_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'active'::text, 'inactive'::text])))
);

CREATE TABLE public.orgs (
    id text NOT NULL,
    name text NOT NULL,
    plan text DEFAULT 'free'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    api_version text DEFAULT '2026-11-01'::text NOT NULL,
    split_documents boolean DEFAULT true NOT NULL
);

CREATE TABLE public.page_images (
    file_sha256 text NOT NULL,
    page integer NOT NULL,
    dpi integer NOT NULL,
    png bytea NOT NULL,
    width integer NOT NULL,
    height integer NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT page_images_dpi_check CHECK (((dpi >= 36) AND (dpi <= 300))),
    CONSTRAINT page_images_page_check CHECK ((page >= 1))
);

CREATE TABLE public.publications (
    id text NOT NULL,
    org_id text NOT NULL,
    livemode boolean NOT NULL,
    invoice_id text NOT NULL,
    target text NOT NULL,
    status text DEFAULT 'queued'::text NOT NULL,
    external_id text,
    vendor_id text,
    attachment_id text,
    attempts integer DEFAULT 0 NOT NULL,
    task_id text,
    lease_expires_at timestamp with time zone,
    error_code text,
    error_message text,
    enqueued_at timestamp with time zone DEFAULT now() NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    published_at timestamp with time zone,
    CONSTRAINT publications_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'running'::text, 'succeeded'::text, 'failed'::text]))),
    CONSTRAINT publications_target_check CHECK ((target = ANY (ARRAY['xero'::text, 'quickbooks'::text])))
);

CREATE TABLE public.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.web_sessions (
    id_sha256 text NOT NULL,
    member_id text NOT NULL,
    org_id text NOT NULL,
    csrf_token text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    ip text,
    user_agent text
);

CREATE TABLE public.webhook_attempts (
    delivery_id text NOT NULL,
    attempt integer NOT NULL,
    attempted_at timestamp with time zone DEFAULT now() NOT NULL,
    response_status integer,
    response_body text,
    duration_ms integer,
    error text
);

CREATE TABLE public.webhook_deliveries (
    id text NOT NULL,
    endpoint_id text NOT NULL,
    event_id text NOT NULL,
    ordering_key text NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    lease_expires_at timestamp with time zone,
    task_id text,
    last_attempt_at timestamp with time zone,
    response_status integer,
    response_body text,
    duration_ms integer,
    last_error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    seq bigint NOT NULL,
    CONSTRAINT webhook_deliveries_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'sending'::text, 'succeeded'::text, 'failed'::text])))
);

ALTER TABLE public.webhook_deliveries ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.webhook_deliveries_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.webhook_endpoints (
    id text NOT NULL,
    org_id text NOT NULL,
    livemode boolean NOT NULL,
    url text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    events text[] DEFAULT '{}'::text[] NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    disabled_reason text,
    secret text NOT NULL,
    previous_secret text,
    previous_secret_expires_at timestamp with time zone,
    failing_since timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_secret_sha256_key UNIQUE (secret_sha256);

ALTER TABLE ONLY public.bank_matches
    ADD CONSTRAINT bank_matches_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.bank_reconciliations
    ADD CONSTRAINT bank_reconciliations_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.bank_statement_files
    ADD CONSTRAINT bank_statement_files_pkey PRIMARY KEY (statement_id);

ALTER TABLE ONLY public.bank_statements
    ADD CONSTRAINT bank_statements_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.bank_transactions
    ADD CONSTRAINT bank_transactions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.commercial_document_invoices
    ADD CONSTRAINT commercial_document_invoices_pkey PRIMARY KEY (document_id, invoice_id);

ALTER TABLE ONLY public.commercial_documents
    ADD CONSTRAINT commercial_documents_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.credit_balances
    ADD CONSTRAINT credit_balances_pkey PRIMARY KEY (org_id);

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.export_file_chunks
    ADD CONSTRAINT export_file_chunks_pkey PRIMARY KEY (export_id, seq);

ALTER TABLE ONLY public.exports
    ADD CONSTRAINT exports_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.extraction_schemas
    ADD CONSTRAINT extraction_schemas_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (org_id, livemode, key);

ALTER TABLE ONLY public.integration_authorizations
    ADD CONSTRAINT integration_authorizations_pkey PRIMARY KEY (state_hash);

ALTER TABLE ONLY public.integration_mappings
    ADD CONSTRAINT integration_mappings_pkey PRIMARY KEY (org_id, livemode, provider);

ALTER TABLE ONLY public.integrations
    ADD CONSTRAINT integrations_pkey PRIMARY KEY (org_id, livemode, provider);

ALTER TABLE ONLY public.invoice_comments
    ADD CONSTRAINT invoice_comments_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.invoice_files
    ADD CONSTRAINT invoice_files_pkey PRIMARY KEY (invoice_id);

ALTER TABLE ONLY public.invoice_history
    ADD CONSTRAINT invoice_history_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.invoices
    ADD CONSTRAINT invoices_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.mail_messages
    ADD CONSTRAINT mail_messages_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.mailboxes
    ADD CONSTRAINT mailboxes_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.matching_settings
    ADD CONSTRAINT matching_settings_pkey PRIMARY KEY (org_id);

ALTER TABLE ONLY public.member_invitations
    ADD CONSTRAINT member_invitations_pkey PRIMARY KEY (token_sha256);

ALTER TABLE ONLY public.members
    ADD CONSTRAINT members_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.orgs
    ADD CONSTRAINT orgs_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.page_images
    ADD CONSTRAINT page_images_pkey PRIMARY KEY (file_sha256, page, dpi);

ALTER TABLE ONLY public.publications
    ADD CONSTRAINT publications_invoice_id_target_key UNIQUE (invoice_id, target);

ALTER TABLE ONLY public.publications
    ADD CONSTRAINT publications_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);

ALTER TABLE ONLY public.web_sessions
    ADD CONSTRAINT web_sessions_pkey PRIMARY KEY (id_sha256);

ALTER TABLE ONLY public.webhook_attempts
    ADD CONSTRAINT webhook_attempts_pkey PRIMARY KEY (delivery_id, attempt);

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (id);

CREATE INDEX api_keys_member ON public.api_keys USING btree (member_id) WHERE (member_id IS NOT NULL);

CREATE INDEX api_keys_org ON public.api_keys USING btree (org_id, id);

CREATE INDEX bank_matches_invoice ON public.bank_matches USING btree (invoice_id) WHERE (status <> 'undone'::text);

CREATE INDEX bank_matches_reconciliation ON public.bank_matches USING btree (reconciliation_id, id);

CREATE INDEX bank_matches_transaction ON public.bank_matches USING btree (transaction_id) WHERE (status <> 'undone'::text);

CREATE INDEX bank_reconciliations_org_list ON public.bank_reconciliations USING btree (org_id, livemode, id DESC);

CREATE INDEX bank_statements_org_list ON public.bank_statements USING btree (org_id, livemode, id DESC);

CREATE INDEX bank_statements_reference ON public.bank_statements USING btree (org_id, livemode, account_iban, statement_reference) WHERE (status = 'processed'::text);

CREATE UNIQUE INDEX bank_statements_same_file ON public.bank_statements USING btree (org_id, livemode, file_sha256);

CREATE INDEX bank_statements_unfinished ON public.bank_statements USING btree (enqueued_at) WHERE (status = ANY (ARRAY['queued'::text, 'processing'::text]));

CREATE INDEX bank_transactions_booking ON public.bank_transactions USING btree (org_id, livemode, booking_date);

CREATE UNIQUE INDEX bank_transactions_dedup ON public.bank_transactions USING btree (org_id, livemode, account_iban, dedup_key);

CREATE INDEX bank_transactions_statement ON public.bank_transactions USING btree (statement_id, id);

CREATE INDEX commercial_document_invoices_invoice ON public.commercial_document_invoices USING btree (invoice_id);

CREATE INDEX commercial_documents_expiring ON public.commercial_documents USING btree (valid_until) WHERE ((kind = 'quote'::text) AND (status = 'received'::text));

CREATE UNIQUE INDEX commercial_documents_invoice ON public.commercial_documents USING btree (invoice_id);

CREATE INDEX commercial_documents_list ON public.commercial_documents USING btree (org_id, livemode, kind, status, id DESC);

CREATE INDEX commercial_documents_list_all ON public.commercial_documents USING btree (org_id, livemode, kind, id DESC);

CREATE INDEX commercial_documents_number ON public.commercial_documents USING btree (org_id, livemode, kind, lower(number));

CREATE INDEX events_tenant ON public.events USING btree (org_id, livemode, id DESC);

CREATE INDEX exports_expiring ON public.exports USING btree (expires_at) WHERE ((expires_at IS NOT NULL) AND (file_deleted_at IS NULL));

CREATE INDEX exports_org_list ON public.exports USING btree (org_id, livemode, id DESC);

CREATE INDEX exports_unfinished ON public.exports USING btree (enqueued_at) WHERE (status = ANY (ARRAY['queued'::text, 'running'::text]));

CREATE UNIQUE INDEX extraction_schemas_one_default ON public.extraction_schemas USING btree (org_id, livemode) WHERE is_default;

CREATE INDEX extraction_schemas_tenant ON public.extraction_schemas USING btree (org_id, livemode, id DESC);

CREATE INDEX idempotency_keys_created ON public.idempotency_keys USING btree (created_at);

CREATE INDEX integration_authorizations_expiring ON public.integration_authorizations USING btree (expires_at);

CREATE INDEX invoice_comments_invoice ON public.invoice_comments USING btree (invoice_id, id DESC);

CREATE INDEX invoice_history_corrections ON public.invoice_history USING btree (org_id, livemode, created_at) WHERE (kind = 'correction'::text);

CREATE INDEX invoice_history_invoice ON public.invoice_history USING btree (invoice_id, id DESC);

CREATE UNIQUE INDEX invoices_idempotency ON public.invoices USING btree (org_id, livemode, idempotency_key) WHERE (idempotency_key IS NOT NULL);

CREATE INDEX invoices_processing ON public.invoices USING btree (lease_expires_at) WHERE (status = 'processing'::text);

CREATE INDEX invoices_queued ON public.invoices USING btree (enqueued_at) WHERE (status = 'queued'::text);

CREATE INDEX invoices_split_from ON public.invoices USING btree (((split_from ->> 'invoice'::text))) WHERE (split_from IS NOT NULL);

CREATE INDEX invoices_tenant_currency ON public.invoices USING btree (org_id, livemode, currency, id DESC) WHERE (currency IS NOT NULL);

CREATE INDEX invoices_tenant_id ON public.invoices USING btree (org_id, livemode, id DESC);

CREATE INDEX invoices_tenant_invoice_date ON public.invoices USING btree (org_id, livemode, invoice_date) WHERE (invoice_date IS NOT NULL);

CREATE INDEX invoices_tenant_number ON public.invoices USING btree (org_id, livemode, ((fields ->> 'invoice_number'::text))) WHERE (status = 'succeeded'::text);

CREATE INDEX invoices_tenant_sha_id ON public.invoices USING btree (org_id, livemode, file_sha256, id);

CREATE INDEX invoices_tenant_status ON public.invoices USING btree (org_id, livemode, status, id DESC);

CREATE INDEX invoices_undispatched ON public.invoices USING btree (id) WHERE ((status = 'queued'::text) AND (dispatched_at IS NULL));

CREATE INDEX invoices_vendor_trgm ON public.invoices USING gin (vendor_name public.gin_trgm_ops) WHERE (vendor_name IS NOT NULL);

CREATE UNIQUE INDEX mail_messages_message_id ON public.mail_messages USING btree (mailbox_id, message_id) WHERE (message_id IS NOT NULL);

CREATE UNIQUE INDEX mail_messages_uid ON public.mail_messages USING btree (mailbox_id, uidvalidity, uid);

CREATE INDEX mailboxes_due ON public.mailboxes USING btree (next_poll_at) WHERE enabled;

CREATE INDEX mailboxes_org_list ON public.mailboxes USING btree (org_id, livemode, id DESC);

CREATE INDEX member_invitations_member ON public.member_invitations USING btree (member_id);

CREATE UNIQUE INDEX members_org_email ON public.members USING btree (org_id, lower(email));

CREATE INDEX members_org_id ON public.members USING btree (org_id, id DESC);

CREATE INDEX members_org_status ON public.members USING btree (org_id, status, id DESC);

CREATE INDEX members_sign_in ON public.members USING btree (lower(email)) WHERE (password_hash IS NOT NULL);

CREATE INDEX publications_unfinished ON public.publications USING btree (enqueued_at) WHERE (status = ANY (ARRAY['queued'::text, 'running'::text]));

CREATE INDEX web_sessions_expires ON public.web_sessions USING btree (expires_at);

CREATE INDEX web_sessions_member ON public.web_sessions USING btree (member_id);

CREATE INDEX webhook_deliveries_chain ON public.webhook_deliveries USING btree (endpoint_id, ordering_key, seq) WHERE (status = ANY (ARRAY['pending'::text, 'sending'::text]));

CREATE INDEX webhook_deliveries_due ON public.webhook_deliveries USING btree (next_attempt_at) WHERE (status = 'pending'::text);

CREATE INDEX webhook_deliveries_endpoint ON public.webhook_deliveries USING btree (endpoint_id, id DESC);

CREATE INDEX webhook_deliveries_sending ON public.webhook_deliveries USING btree (lease_expires_at) WHERE (status = 'sending'::text);

CREATE INDEX webhook_endpoints_tenant ON public.webhook_endpoints USING btree (org_id, livemode, id DESC);

CREATE TRIGGER api_keys_auth_changed AFTER DELETE OR UPDATE OF org_id, livemode, scopes, revoked_at, member_id, secret_sha256 ON public.api_keys FOR EACH STATEMENT EXECUTE FUNCTION public.invex_notify_auth_changed();

CREATE TRIGGER api_keys_auth_truncated AFTER TRUNCATE ON public.api_keys FOR EACH STATEMENT EXECUTE FUNCTION public.invex_notify_auth_changed();

CREATE TRIGGER members_auth_changed AFTER DELETE OR UPDATE OF org_id, role, status ON public.members FOR EACH STATEMENT EXECUTE FUNCTION public.invex_notify_auth_changed();

CREATE TRIGGER members_auth_truncated AFTER TRUNCATE ON public.members FOR EACH STATEMENT EXECUTE FUNCTION public.invex_notify_auth_changed();

CREATE TRIGGER orgs_auth_changed AFTER DELETE OR UPDATE OF plan, api_version ON public.orgs FOR EACH STATEMENT EXECUTE FUNCTION public.invex_notify_auth_changed();

CREATE TRIGGER orgs_auth_truncated AFTER TRUNCATE ON public.orgs FOR EACH STATEMENT EXECUTE FUNCTION public.invex_notify_auth_changed();

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_member_id_fkey FOREIGN KEY (member_id) REFERENCES public.members(id);

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.bank_matches
    ADD CONSTRAINT bank_matches_invoice_id_fkey FOREIGN KEY (invoice_id) REFERENCES public.invoices(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.bank_matches
    ADD CONSTRAINT bank_matches_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.bank_matches
    ADD CONSTRAINT bank_matches_reconciliation_id_fkey FOREIGN KEY (reconciliation_id) REFERENCES public.bank_reconciliations(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.bank_matches
    ADD CONSTRAINT bank_matches_transaction_id_fkey FOREIGN KEY (transaction_id) REFERENCES public.bank_transactions(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.bank_reconciliations
    ADD CONSTRAINT bank_reconciliations_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.bank_reconciliations
    ADD CONSTRAINT bank_reconciliations_statement_id_fkey FOREIGN KEY (statement_id) REFERENCES public.bank_statements(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.bank_statement_files
    ADD CONSTRAINT bank_statement_files_statement_id_fkey FOREIGN KEY (statement_id) REFERENCES public.bank_statements(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.bank_statements
    ADD CONSTRAINT bank_statements_duplicate_of_fkey FOREIGN KEY (duplicate_of) REFERENCES public.bank_statements(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.bank_statements
    ADD CONSTRAINT bank_statements_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.bank_transactions
    ADD CONSTRAINT bank_transactions_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.bank_transactions
    ADD CONSTRAINT bank_transactions_statement_id_fkey FOREIGN KEY (statement_id) REFERENCES public.bank_statements(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.commercial_document_invoices
    ADD CONSTRAINT commercial_document_invoices_document_id_fkey FOREIGN KEY (document_id) REFERENCES public.commercial_documents(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.commercial_document_invoices
    ADD CONSTRAINT commercial_document_invoices_invoice_id_fkey FOREIGN KEY (invoice_id) REFERENCES public.invoices(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.commercial_documents
    ADD CONSTRAINT commercial_documents_invoice_id_fkey FOREIGN KEY (invoice_id) REFERENCES public.invoices(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.commercial_documents
    ADD CONSTRAINT commercial_documents_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.credit_balances
    ADD CONSTRAINT credit_balances_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.export_file_chunks
    ADD CONSTRAINT export_file_chunks_export_id_fkey FOREIGN KEY (export_id) REFERENCES public.exports(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.exports
    ADD CONSTRAINT exports_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.extraction_schemas
    ADD CONSTRAINT extraction_schemas_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.integration_authorizations
    ADD CONSTRAINT integration_authorizations_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.integration_mappings
    ADD CONSTRAINT integration_mappings_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.integrations
    ADD CONSTRAINT integrations_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.invoice_comments
    ADD CONSTRAINT invoice_comments_invoice_id_fkey FOREIGN KEY (invoice_id) REFERENCES public.invoices(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.invoice_files
    ADD CONSTRAINT invoice_files_invoice_id_fkey FOREIGN KEY (invoice_id) REFERENCES public.invoices(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.invoice_history
    ADD CONSTRAINT invoice_history_invoice_id_fkey FOREIGN KEY (invoice_id) REFERENCES public.invoices(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.invoices
    ADD CONSTRAINT invoices_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.mail_messages
    ADD CONSTRAINT mail_messages_mailbox_id_fkey FOREIGN KEY (mailbox_id) REFERENCES public.mailboxes(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.mailboxes
    ADD CONSTRAINT mailboxes_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.matching_settings
    ADD CONSTRAINT matching_settings_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.member_invitations
    ADD CONSTRAINT member_invitations_member_id_fkey FOREIGN KEY (member_id) REFERENCES public.members(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.members
    ADD CONSTRAINT members_invited_by_key_id_fkey FOREIGN KEY (invited_by_key_id) REFERENCES public.api_keys(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.members
    ADD CONSTRAINT members_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.publications
    ADD CONSTRAINT publications_invoice_id_fkey FOREIGN KEY (invoice_id) REFERENCES public.invoices(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.publications
    ADD CONSTRAINT publications_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.web_sessions
    ADD CONSTRAINT web_sessions_member_id_fkey FOREIGN KEY (member_id) REFERENCES public.members(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.web_sessions
    ADD CONSTRAINT web_sessions_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.webhook_attempts
    ADD CONSTRAINT webhook_attempts_delivery_id_fkey FOREIGN KEY (delivery_id) REFERENCES public.webhook_deliveries(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES public.webhook_endpoints(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_event_id_fkey FOREIGN KEY (event_id) REFERENCES public.events(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) ON DELETE CASCADE;
