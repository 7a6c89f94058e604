"""Statements of the mail path compiled once per database and run on the DB-API cursor.

SQLAlchemy Core spends 40-50 µs per statement on SQLite (100+ on PostgreSQL) building its
execution context, against 10-20 for the driver's own execute; the mail path runs about thirty
statements per message, so that overhead was a third of the gateway's CPU (../shared/perf-notes.md).
A `Prebuilt` keeps what SQLAlchemy would work out per call: the SQL text, the order of the
parameters, their type conversions (SQLite stores datetimes as text) and the columns' scalar
defaults. It runs inside the caller's SQLAlchemy transaction, on the same connection.

Only plain statements qualify: no expanding IN lists, no callable column defaults (give those
values), results read as the driver returns them (ids, counts, strings; a datetime comes back as
SQLite's text, which the caller converts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter, itemgetter, methodcaller
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement
from sqlmodel.sql.sqltypes import UTCDateTime


@dataclass(frozen=True)
class _Compiled:
    sql: str
    convert: tuple[tuple[str, Callable], ...]  # bind processors to apply
    defaults: dict[str, Any]                   # scalar column defaults for parameters not given
    ordered: Callable[[dict], tuple] | None    # values in order for qmark (SQLite); None: by name (psycopg)


def _defaults(compiled, missing: Iterable[str]) -> tuple[tuple[str, Any], ...]:
    """Values for the parameters the caller does not give: a column's scalar default, or the
    value written into the statement itself (`.values(status="sent")`)."""
    prefetch = {c.key: c for c in (*getattr(compiled, "insert_prefetch", ()),
                                   *getattr(compiled, "update_prefetch", ()))}
    found = []
    for name in missing:
        bind = compiled.binds.get(name)
        if name in prefetch:
            default = prefetch[name].default
            if not default.is_scalar:  # a callable default needs SQLAlchemy's execution context
                raise ValueError(f"give {name} explicitly: its default is computed")
            found.append((name, default.arg))
        elif bind is not None and not bind.required:
            found.append((name, bind.effective_value))
        else:
            raise ValueError(f"no value for the parameter {name}")
    return tuple(found)


def _quicker(bind_type, dialect_name: str, processor: Callable) -> Callable:
    """SQLite's text of the UTC datetimes the gateway writes (~15 per new ticket), without the layers
    around it: a TypeDecorator, sqlmodel's UTC check and conversion, SQLAlchemy's dict of seven
    fields. The same text: tests/test_prebuilt.py compares the two."""
    if dialect_name != "sqlite" or not isinstance(bind_type, UTCDateTime):
        return processor

    def as_text(value):
        if value.__class__ is datetime and value.tzinfo is UTC:
            return "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (  # SQLAlchemy's storage format on SQLite
                value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond)
        return processor(value)  # another zone, a date, or what the slow way refuses
    return as_text


def _in_order(names: tuple[str, ...]) -> Callable[[dict], tuple]:
    """The values of `names` as a tuple, by itemgetter (C) rather than a generator per statement."""
    if len(names) > 1:
        return itemgetter(*names)
    return (lambda values: (values[names[0]],)) if names else (lambda values: ())


class Prebuilt:
    """`statement`, or one per dialect name: see `per_dialect`."""

    def __init__(self, statement: ClauseElement | dict[str, ClauseElement]):
        self.statement = statement
        self._compiled: dict[tuple[str, frozenset[str]], _Compiled] = {}

    @classmethod
    def per_dialect(cls, build: Callable[[Any], ClauseElement]) -> "Prebuilt":
        """`build(dialect module)` for each database: an INSERT ... ON CONFLICT is built by each
        dialect's own `insert`, and neither compiles the other's."""
        return cls({"postgresql": build(postgresql), "sqlite": build(sqlite)})

    def _for(self, dialect: Dialect, keys: frozenset[str]) -> _Compiled:
        found = self._compiled.get((dialect.name, keys))
        if found is None:
            statement = self.statement[dialect.name] if isinstance(self.statement, dict) else self.statement
            compiled = statement.compile(dialect=dialect, column_keys=sorted(keys))
            names = tuple(compiled.positiontup) if compiled.positional else tuple(compiled.binds)
            processors = compiled._bind_processors
            # A name bound twice (positional: twice in positiontup) is converted once.
            found = _Compiled(compiled.string,
                              tuple((n, _quicker(compiled.binds[n].type, dialect.name, processors[n]))
                                    for n in dict.fromkeys(names) if processors.get(n)),
                              dict(_defaults(compiled, set(names) - keys)),
                              _in_order(names) if compiled.positional else None)
            self._compiled[(dialect.name, keys)] = found
        return found

    def _params(self, compiled: _Compiled, values: dict) -> Sequence | dict:
        if compiled.defaults:
            values = {**compiled.defaults, **values}
        if compiled.convert:
            values = dict(values)
            for name, process in compiled.convert:
                if values[name] is not None:
                    values[name] = process(values[name])
        return values if compiled.ordered is None else compiled.ordered(values)

    def _run(self, conn: Connection, values: dict, read: Callable, many: list[dict] | None = None):
        compiled = self._for(conn.dialect, frozenset(values))
        fairy = conn.connection
        driver = fairy.driver_connection
        if conn.dialect.name == "postgresql":
            # psycopg: one cursor per connection, kept with it; a new one per statement cost a third
            # of a simple execute (~20 µs). Each result is read before the next statement runs.
            cursor, keep = fairy.info.get(_CURSOR), True
            if cursor is None or cursor.closed or cursor.connection is not driver:
                cursor = fairy.info[_CURSOR] = driver.cursor()
        else:
            # sqlite3: a new cursor each time (they cost nothing), closed at once so its statement is
            # reset; a kept one would hold the statement, and with it a WAL snapshot, until reused.
            cursor, keep = driver.cursor(), False
        try:
            if many is None:
                cursor.execute(compiled.sql, self._params(compiled, values))
            else:
                cursor.executemany(compiled.sql, [self._params(compiled, row) for row in many])
            return read(cursor)
        finally:
            if not keep:
                cursor.close()

    def execute(self, conn: Connection, values: dict) -> int:
        """Run it with one set of values; returns the number of rows it changed."""
        return self._run(conn, values, _rowcount)

    def first(self, conn: Connection, values: dict) -> tuple | None:
        """The first row, or None."""
        return self._run(conn, values, _fetchone)

    def all(self, conn: Connection, values: dict) -> list[tuple]:
        return self._run(conn, values, _fetchall)

    def scalar(self, conn: Connection, values: dict):
        """The first column of the first row (an INSERT ... RETURNING id)."""
        row = self.first(conn, values)
        return None if row is None else row[0]

    def explain(self, conn: Connection, values: dict) -> list[str]:
        """How the database would run it with these values, a line per step (plan checks)."""
        prefix = "EXPLAIN " if conn.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
        compiled = self._for(conn.dialect, frozenset(values))
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.execute(prefix + compiled.sql, self._params(compiled, values))
            return [" ".join(str(column) for column in row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def scalar_on_sqlite(self, dialect: Dialect, driver, values: dict):
        """`scalar` on a sqlite3 connection of the caller's own, with no SQLAlchemy connection
        around it (the intake's held connection: store/inbound_messages.py)."""
        compiled = self._for(dialect, frozenset(values))
        cursor = driver.execute(compiled.sql, self._params(compiled, values))
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()  # resets the statement, which would otherwise hold its snapshot
        return None if row is None else row[0]

    def executemany(self, conn: Connection, rows: list[dict]) -> None:
        """Run it once per dict of `rows` (all with the same keys) in one driver call."""
        if rows:
            self._run(conn, rows[0], _rowcount, many=rows)


_CURSOR = "helpdesk.prebuilt.cursor"  # the key of psycopg's kept cursor in the pool record's info
# What a statement's caller reads off the cursor (C-level callables: no Python frame per statement).
_rowcount, _fetchone, _fetchall = attrgetter("rowcount"), methodcaller("fetchone"), methodcaller("fetchall")
