"""The people of an organisation, their roles, and the keys that act for them."""
