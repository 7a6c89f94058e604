"""Organizations, users, roles, queues and contracts as admins manage them."""
