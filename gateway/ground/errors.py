"""The gateway's exception tree; each class says how the sender is answered.

    GatewayError
    ├── Reject       the sender's fault: a permanent 5xx, nothing stored
    ├── TempFail     ours or transient: SMTP 451, pipe exit 75, the sender retries
    ├── Quarantine   accepted and stored, kept aside with the reason until released
    └── UserError    a CLI or configuration mistake: one line, non-zero exit
"""


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""


class Reject(GatewayError):
    """The message or command is refused permanently; the text is safe to show the sender."""


class TempFail(GatewayError):
    """A transient failure (database unavailable, locked): the sender must try again."""


class Quarantine(GatewayError):
    """The message is stored but cannot be processed; the text is the reason kept with it."""


class UserError(GatewayError):
    """Bad input from an operator or admin; the text is the one line printed."""
