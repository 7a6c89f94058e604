"""Benchmark: inbound SMS webhooks end to end (signed POST -> stored -> ticket -> SMS acknowledgement
at a fake Twilio), requests per second, on a fresh database.

Starts a fake of Twilio's Messages API (tests/fake_twilio.py, a real HTTP server in this process),
an SMTP sink as the relay (the technicians' notifications), and `helpdesk serve` with the Twilio
provider pointed at the fake; then POSTs N signed incoming-SMS webhooks from N distinct numbers
over C keep-alive connections and measures:

- accepted req/s: webhooks answered 200 / (first POST .. last 200)
- POST->200 latency (p50/p99/max): what Twilio waits for
- end-to-end SMS/s: N / (first POST .. the last acknowledgement arriving at the fake)
- the gateway's CPU per SMS (utime+stime of `helpdesk serve`, all threads)

    .venv/bin/python bench/sms.py [--messages 500] [--concurrency 4] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import http.client
import sys
import tempfile
import threading
import time
import urllib.parse
from contextlib import ExitStack
from pathlib import Path

from gateway_harness import REPO, free_port, gateway_env, start_gateway, start_sink, stop_gateway
from ingest import dist
from proc_stats import cpu_seconds
from scratch_db import create_database
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(REPO))
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio  # noqa: E402

PATH = "/sms/twilio"


def signed_requests(n: int, public_url: str) -> list[tuple[bytes, str]]:
    validator, out = RequestValidator(AUTH_TOKEN), []
    for i in range(n):
        params = {"MessageSid": f"SM{i:032x}", "AccountSid": ACCOUNT_SID, "From": f"+4860{i:07d}",
                  "To": FROM_NUMBER, "Body": f"Drukarka {i} nie drukuje, prosimy o pomoc", "NumMedia": "0"}
        out.append((urllib.parse.urlencode(params).encode(), validator.compute_signature(public_url + PATH, params)))
    return out


def post_all(port: int, requests: list[tuple[bytes, str]], concurrency: int) -> tuple[list, list, float]:
    """Each worker posts its share over one keep-alive connection; (statuses, latencies, first start)."""
    statuses, latencies, starts = [0] * len(requests), [0.0] * len(requests), []

    def work(indexes):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for i in indexes:
            body, signature = requests[i]
            started = time.monotonic()
            starts.append(started)
            conn.request("POST", PATH, body, {"Content-Type": "application/x-www-form-urlencoded",
                                               "X-Twilio-Signature": signature})
            response = conn.getresponse()
            response.read()
            statuses[i], latencies[i] = response.status, time.monotonic() - started
        conn.close()

    threads = [threading.Thread(target=work, args=(range(k, len(requests), concurrency),))
               for k in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses, latencies, min(starts)


def run(args) -> None:
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = create_database(args.database, tmp, stack)
        fake = stack.enter_context(FakeTwilio())
        sink_port, sink_conn, _ = start_sink(stack)
        smtp_port, http_port = free_port(), free_port()
        public_url = f"http://127.0.0.1:{http_port}"
        env = gateway_env(url, tmp, smtp_port, sink_port)
        env.update(HELPDESK_HTTP_LISTEN=f"127.0.0.1:{http_port}", HELPDESK_PUBLIC_URL=public_url,
                   HELPDESK_SMS_PROVIDER="twilio", HELPDESK_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                   HELPDESK_TWILIO_AUTH_TOKEN=AUTH_TOKEN, HELPDESK_TWILIO_FROM_NUMBER=FROM_NUMBER,
                   HELPDESK_TWILIO_API_URL=fake.url, HELPDESK_SMS_RATE_LIMIT_PER_HOUR="1000")
        proc = start_gateway(env, smtp_port, tmp / "gateway.log", stack)
        requests = signed_requests(args.messages, public_url)
        cpu_before = cpu_seconds(proc.pid)
        statuses, latencies, first = post_all(http_port, requests, args.concurrency)
        accepted_at = time.monotonic()
        deadline = time.monotonic() + 120
        while len(fake.sent) < args.messages and time.monotonic() < deadline:
            time.sleep(0.02)
        done_at, cpu = time.monotonic(), cpu_seconds(proc.pid) - cpu_before
        ok = statuses.count(200)
        print(f"{args.database}: {args.messages} signed webhooks over {args.concurrency} connections")
        print(f"  accepted        {ok / (accepted_at - first):.1f} req/s ({ok} answered 200)")
        print(f"  POST->200       {dist(latencies)} ms")
        print(f"  end to end      {len(fake.sent) / (done_at - first):.1f} SMS/s "
              f"({len(fake.sent)} acknowledgements at the fake Twilio)")
        print(f"  CPU per SMS     gateway {1000 * cpu / args.messages:.2f} ms")
        stop_gateway(proc)
        sink_conn.send("stop")  # the sink answers with what it received; the staff mail is not measured here
        sink_conn.recv() if sink_conn.poll(30) else None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=500)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--database", default="sqlite", choices=("sqlite", "postgresql"))
    run(p.parse_args())


if __name__ == "__main__":
    main()
