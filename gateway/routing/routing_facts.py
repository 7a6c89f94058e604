"""What routing rules look at, computed at most once per message and only when a rule asks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from helpdesk.gateway.ground.message import InboundMail
from helpdesk.gateway.routing.language import detect_language


@dataclass(frozen=True)
class RequesterInfo:
    """The sender as the database knows them (organization, active contracts), looked up lazily."""

    organization: str | None = None
    contracts: tuple[str, ...] = ()
    sla_profiles: tuple[str, ...] = ()


def _parent_domains(domain: str) -> frozenset[str]:
    labels = domain.split(".")
    return frozenset(".".join(labels[i:]) for i in range(len(labels)))


class RoutingFacts:
    def __init__(self, mail: InboundMail, now: datetime, zone: ZoneInfo,
                 requester: Callable[[], RequesterInfo] = RequesterInfo):
        self.mail, self.now, self.zone, self._requester = mail, now, zone, requester

    @cached_property
    def senders(self) -> frozenset[str]:
        return frozenset({self.mail.sender})

    @cached_property
    def sender_domains(self) -> frozenset[str]:
        # "sender_domain: acme.example" also matches mail.acme.example
        return _parent_domains(self.mail.sender.rpartition("@")[2])

    @cached_property
    def recipients(self) -> frozenset[str]:
        return frozenset(a.lower() for a in self.mail.envelope_to + self.mail.recipients)

    @property
    def subject(self) -> str:
        return self.mail.subject

    @property
    def body(self) -> str:
        return self.mail.text

    @property
    def headers(self) -> dict[str, str]:
        return self.mail.headers

    @cached_property
    def channels(self) -> frozenset[str]:
        return frozenset({self.mail.channel})

    @property
    def has_attachment(self) -> bool:
        return bool(self.mail.attachments)

    @cached_property
    def languages(self) -> frozenset[str]:
        found = detect_language(f"{self.mail.subject}\n{self.mail.text}")
        return frozenset({found}) if found else frozenset()

    @cached_property
    def requester(self) -> RequesterInfo:
        return self._requester()

    @cached_property
    def organizations(self) -> frozenset[str]:
        org = self.requester.organization
        return frozenset({org.casefold()}) if org else frozenset()

    @cached_property
    def contracts(self) -> frozenset[str]:
        return frozenset(c.casefold() for c in self.requester.contracts)

    @cached_property
    def sla_profiles(self) -> frozenset[str]:
        return frozenset(s.casefold() for s in self.requester.sla_profiles)

    @cached_property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.zone)
