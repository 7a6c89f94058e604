"""The roles a user can hold: the client's people and the provider's staff.

What each role may do is decided in gateway/accounts/permissions.py.
"""

from __future__ import annotations

CLIENT_ROLES = ("client", "client-admin", "fin-admin", "sys-admin")
ORG_ROLES = ("client-admin", "fin-admin", "sys-admin")
STAFF_ROLES = ("technician", "dispatcher", "admin")
ALL_ROLES = CLIENT_ROLES + STAFF_ROLES
