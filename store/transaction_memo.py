"""Reads remembered until the end of the transaction they were made in.

The processor handles a batch of messages in one transaction, and every new ticket in it asks who
watches its queue: the same answer each time, since nothing on the mail path changes queue
membership, roles or availability (the CLI does, in transactions of its own). Only callers that
know their transaction does not change what they read may use this.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Connection

T = TypeVar("T")
_MEMOS: WeakKeyDictionary = WeakKeyDictionary()  # transaction -> {key: value}; gone with the transaction


def remembered(conn: Connection, key: Hashable, read: Callable[[], T]) -> T:
    """`read()` once per transaction and `key`; outside a transaction, every time."""
    transaction = conn.get_transaction()
    if transaction is None:
        return read()
    memo = _MEMOS.get(transaction)
    if memo is None:
        memo = _MEMOS[transaction] = {}
    if key not in memo:
        memo[key] = read()
    return memo[key]
