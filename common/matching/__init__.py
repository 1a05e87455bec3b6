"""Matching invoices against the quotes and purchase orders they should agree with."""
