"""The gateway's exception tree; each class says how the sender is answered.

    GatewayError
    ├── TempFail     ours or transient: SMTP 451, pipe exit 75, the sender retries
    ├── Quarantine   accepted and stored, kept aside with the reason until released
    ├── LeaseLost    another instance took over the work (an IMAP mailbox): stop, let it go on
    ├── UserError    a CLI or configuration mistake: one line, non-zero exit
    └── HeaderInjection  a header value of outbound mail holds CR, LF or NUL: nothing is composed

A permanent refusal (a 5xx) is an SMTP reply of the listener (inbound/smtp.py), decided before
anything is stored, so it needs no exception.
"""


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""


class TempFail(GatewayError):
    """A transient failure (database unavailable, locked): the sender must try again."""


class Quarantine(GatewayError):
    """The message is stored but cannot be processed; the text is the reason kept with it."""


class LeaseLost(GatewayError):
    """Another instance holds the lease on this work now."""


class UserError(GatewayError):
    """Bad input from an operator or admin; the text is the one line printed."""


class HeaderInjection(GatewayError):
    """A value meant for one header of an outbound mail would start another line (CR, LF) or end it
    (NUL); refused rather than cleaned, since it means some input escaped its validation."""


def database_error_line(exc: BaseException) -> str:
    """The driver's own first line of a database error (SQLAlchemy wraps it in `orig`), for a
    one-line message to a person or a log."""
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
