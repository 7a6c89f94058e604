"""Tables of billing: invoices, their lines, the gap-free number sequence (filled by the billing work)."""

from __future__ import annotations
