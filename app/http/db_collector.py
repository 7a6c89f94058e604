"""Gauges the database knows, read at scrape time: outbox depth and age, the inbound backlog, open tickets.

Several instances on one database report the same values here (sum their counters, not these).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.gateway.ground.clock import utcnow
from helpdesk.store.health_queries import open_tickets, outbox_backlogs, pending_inbound


def _age(oldest: datetime | None, now: datetime) -> float:
    return max((now - oldest).total_seconds(), 0.0) if oldest else 0.0


class DatabaseCollector(Collector):
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow):
        self.engine, self.clock = engine, clock

    def describe(self) -> list[Metric]:
        return []  # nothing to say before a scrape (and registering must not query the database)

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("helpdesk_database_up", "1 when the database answered this scrape's queries")
        try:
            with self.engine.connect() as conn:
                outbox, inbound, tickets = outbox_backlogs(conn), pending_inbound(conn), open_tickets(conn)
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        now = self.clock()
        depth = GaugeMetricFamily("helpdesk_outbox_messages", "Outbox rows waiting, by status", labels=["status"])
        age = GaugeMetricFamily("helpdesk_outbox_oldest_age_seconds",
                                "Age of the oldest outbox row, by status (0 when there is none)", labels=["status"])
        for status, backlog in outbox.items():
            depth.add_metric([status], backlog.count)
            age.add_metric([status], _age(backlog.oldest, now))
        yield depth
        yield age
        yield GaugeMetricFamily("helpdesk_inbound_pending_messages", "Stored inbound messages not processed yet",
                                value=inbound.count)
        yield GaugeMetricFamily("helpdesk_inbound_oldest_pending_age_seconds",
                                "Age of the oldest unprocessed inbound message (0 when there is none)",
                                value=_age(inbound.oldest, now))
        open_gauge = GaugeMetricFamily("helpdesk_open_tickets", "Tickets not resolved or closed, by queue and status",
                                       labels=["queue", "status"])
        for queue, status, count in tickets:
            open_gauge.add_metric([queue, status], count)
        yield open_gauge
