"""Gap-free invoice numbers, one sequence per year and provider: `2026-000123`.

The next number is taken with one upsert on the counter row of the year, in the transaction that
inserts the invoice. The upsert holds that row's lock until the transaction ends (PostgreSQL row
lock; SQLite's one writer), so a second instance asking meanwhile waits, and then sees the committed
number; a transaction that fails rolls its increment back with everything else. So no number is
skipped and none is used twice. It also serialises invoice issuing per year: when the invoice's
insert then finds its contract and period taken (ON CONFLICT DO NOTHING), the run that took them
has committed, and rolling back gives the number back.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from helpdesk.store.billing_tables import InvoiceCounter
from helpdesk.store.prebuilt import Prebuilt

_counter = InvoiceCounter.__table__


def format_number(year: int, sequence: int) -> str:
    return f"{year}-{sequence:06d}"


NEXT_NUMBER = Prebuilt.per_dialect(lambda dialect: dialect.insert(_counter).values(last_number=1).on_conflict_do_update(
    index_elements=["year", "provider"], set_={"last_number": _counter.c.last_number + 1},
).returning(_counter.c.last_number))


def next_invoice_number(conn: Connection, year: int, provider: str) -> str:
    """The next number of the year, locked until the caller's transaction ends."""
    return format_number(year, NEXT_NUMBER.scalar(conn, {"year": year, "provider": provider}))
