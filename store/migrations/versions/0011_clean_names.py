"""Names stored before control characters were refused (0.x accepted `Name\\r\\nBcc: x@evil`) are
cleaned: every C0/C1 control character, DEL and U+2028/U+2029 becomes a space. The composer now
refuses such a value in a header (HeaderInjection), so a legacy row would otherwise send every
mail naming that person to quarantine.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""
import re

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# (table, key column, name columns); organization names are unique, so a clash keeps the id.
_NAMES = (("user_account", "id", ("display_name",)), ("organization", "id", ("name",)),
          ("queue", "name", ("title",)))


def _clean(value: str) -> str:
    return " ".join(_CONTROL.sub(" ", value).split())


def upgrade() -> None:
    conn = op.get_bind()
    for table, key, columns in _NAMES:
        for column in columns:
            rows = conn.execute(sa.text(f"SELECT {key}, {column} FROM {table}")).all()
            for row_key, value in rows:
                if value and _CONTROL.search(value):
                    cleaned = _clean(value) or f"{table} {row_key}"
                    taken = table == "organization" and conn.execute(
                        sa.text("SELECT 1 FROM organization WHERE name = :n AND id <> :k"),
                        {"n": cleaned, "k": row_key}).first()
                    conn.execute(sa.text(f"UPDATE {table} SET {column} = :v WHERE {key} = :k"),
                                 {"v": f"{cleaned} ({row_key})" if taken else cleaned, "k": row_key})


def downgrade() -> None:
    pass  # the control characters are not worth restoring
