"""Alembic environment: runs migrations on the connection handed in by store.migrate."""

from alembic import context
from sqlmodel import SQLModel

import helpdesk.store.account_tables  # noqa: F401  (registers the tables on SQLModel.metadata)
import helpdesk.store.models  # noqa: F401

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
)
with context.begin_transaction():
    context.run_migrations()
