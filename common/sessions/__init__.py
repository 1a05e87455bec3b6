"""Members' passwords and their web app sessions."""
