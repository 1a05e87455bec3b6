"""Quotes and purchase orders from suppliers, and invoices matched against them."""
