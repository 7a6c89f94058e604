"""The states of an invoice, stored as they read."""

from __future__ import annotations

from enum import StrEnum


class InvoiceStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting-approval"  # waits for a fin-admin of the client (or a provider admin)
    APPROVED = "approved"                    # the EDI mail is queued (or was: see its outbox row)
    REJECTED = "rejected"                    # returned to the provider's admins with a reason
