"""The contract's invoice fields (API.md, "The invoice"), named once for the API, the
extraction engine and the exports. Constants only: the engine imports this without servers."""

# Extracted fields holding one value, in the contract's order.
SCALAR_FIELDS = (
    "invoice_number",
    "invoice_date",
    "due_date",
    "currency",
    "purchase_order",
    "vendor_name",
    "vendor_email",
    "vendor_phone",
    "vendor_tax_id",
    "vendor_address",
    "vendor_iban",
    "customer_name",
    "customer_email",
    "customer_phone",
    "customer_tax_id",
    "customer_address",
    "subtotal_amount",
    "tax_amount",
    "total_amount",
    "amount_due",
    "discount_amount",
    "tax_rate",
    "discount_percent",
    "payment_terms",
    "payment_method",
    "payment_reference",
    "notes",
)
LIST_FIELDS = ("tax_breakdown", "line_items")
# Everything a person may correct with PATCH, and what `expand=extracted` shows.
FIELD_NAMES = (*SCALAR_FIELDS, *LIST_FIELDS, "custom_fields")

# What an amount (minor units) and a quantity may be: an amount below 10**15 in magnitude is
# exact in a bigint, a double and an export's spreadsheet (up to 9,999,999,999,999.99 EUR),
# and UBL's decimals carry it; a quantity has at most 15 significant digits for the same
# reasons. The API refuses more (400 validation_error); extraction drops it with a warning.
MAX_AMOUNT = 10**15 - 1
MAX_SIGNIFICANT_DIGITS = 15
AMOUNT_FIELDS = ("subtotal_amount", "tax_amount", "total_amount", "amount_due", "discount_amount")
LINE_ITEM_AMOUNTS = ("unit_price", "total_price", "tax_amount", "discount_amount")
LINE_ITEM_DECIMALS = ("quantity", "unit_price_decimal")
TAX_BREAKDOWN_AMOUNTS = ("taxable_amount", "tax_amount")
