"""Persistence: SQLModel tables, the engine and sessions, Alembic migrations."""
