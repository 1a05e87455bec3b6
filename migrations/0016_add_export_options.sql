-- Per-format settings of an export, as the request gave them: {"datev": {consultant_number,
-- client_number, fiscal_year_start_month, account_length, creditor_account,
-- expense_account, description}}.
alter table exports add column options jsonb not null default '{}';
