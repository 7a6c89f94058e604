"""A yardstick for how fast the host is at the moment of a run.

This VM's speed drifts by a fifth within an hour, more than most changes to the gateway. The load
generator's CPU per message is no yardstick: it moves with the gateway's own behaviour (how its
replies arrive). So before the load each run times fixed work of the kind the gateway does, in
pure Python: the stdlib parsing, serializing and hashing the same mail. The best of five rounds
(the least disturbed) is reported; comparing two runs' gateway CPU divided by it corrects for
the host, as far as the host slows both alike.
"""

from __future__ import annotations

import hashlib
import json
import time
from email import message_from_bytes, policy

_MAIL = (b"From: Client <client@bench.example>\r\nTo: support@helpdesk.test\r\nSubject: Printer trouble\r\n"
         b"Message-ID: <calibration@bench.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
         + b"The printer on the second floor prints every page twice, since this morning.\r\n" * 25)


def _round(mails: int) -> float:
    started = time.process_time()
    for n in range(mails):
        message = message_from_bytes(_MAIL, policy=policy.compat32)
        record = {"n": n, "subject": message["Subject"], "body": message.get_payload(), "to": message["To"]}
        hashlib.sha256(json.dumps(record).encode()).hexdigest()
    return time.process_time() - started


def calibration_ms(mails: int = 400, rounds: int = 5) -> float:
    """Milliseconds of CPU for `mails` of the fixed work, the best of `rounds`."""
    return round(1000 * min(_round(mails) for _ in range(rounds)), 2)
