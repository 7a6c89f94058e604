"""Run the real `helpdesk` command in its own process without paying its start-up every time.

Importing the CLI costs about 0.9 s (SQLAlchemy, SQLModel, pydantic, flanker), and the suite runs
it hundreds of times. A zygote process imports it once; every command then runs in a fresh fork
of it: its own process, environment, working directory, stdin, stdout, stderr and exit code,
exactly as an operator's shell would see them, minus the import.

    python tests/cli_zygote.py       (started by ZygoteClient; one JSON request per line on stdin)
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

TIMEOUT = 60


def _child(request: dict, out_path: str, err_path: str) -> None:
    """In the fork: become the command's process and run it; never returns."""
    code = 1
    try:
        os.environ.clear()
        os.environ.update(request["env"])
        if request.get("cwd"):
            os.chdir(request["cwd"])
        with tempfile.TemporaryFile() as stdin:
            stdin.write(base64.b64decode(request["stdin"]))
            stdin.seek(0)
            os.dup2(stdin.fileno(), 0)
        os.dup2(os.open(out_path, os.O_WRONLY), 1)
        os.dup2(os.open(err_path, os.O_WRONLY), 2)
        sys.stdin = open(0, "r", closefd=False)  # noqa: SIM115
        sys.stdout, sys.stderr = open(1, "w", closefd=False), open(2, "w", closefd=False)  # noqa: SIM115
        sys.argv = ["helpdesk", *request["args"]]
        from helpdesk.cli import main

        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # a crash shows as a traceback on stderr, like an uncaught one would
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _serve() -> None:
    import helpdesk.cli  # noqa: F401  (the point of the zygote: imported once, before any fork)

    for line in sys.stdin:
        request = json.loads(line)
        with tempfile.NamedTemporaryFile() as out, tempfile.NamedTemporaryFile() as err:
            pid = os.fork()
            if pid == 0:
                _child(request, out.name, err.name)
            timer = threading.Timer(TIMEOUT, os.kill, (pid, 9))
            timer.start()
            _, status = os.waitpid(pid, 0)
            timer.cancel()
            reply = {"code": os.waitstatus_to_exitcode(status),
                     "stdout": base64.b64encode(Path(out.name).read_bytes()).decode(),
                     "stderr": base64.b64encode(Path(err.name).read_bytes()).decode()}
        sys.__stdout__.write(json.dumps(reply) + "\n")
        sys.__stdout__.flush()


class ZygoteClient:
    """One zygote per test process; commands are run one at a time."""

    def __init__(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
        self.proc = subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=env, cwd=Path(__file__).resolve().parent.parent)
        self.lock = threading.Lock()

    def run(self, args: list[str], env: dict[str, str], stdin: bytes | None = None,
            cwd=None) -> subprocess.CompletedProcess:
        request = {"args": [str(a) for a in args], "env": env, "cwd": str(cwd) if cwd else None,
                   "stdin": base64.b64encode(stdin or b"").decode()}
        with self.lock:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
            reply = json.loads(self.proc.stdout.readline())
        return subprocess.CompletedProcess(["helpdesk", *args], reply["code"], base64.b64decode(reply["stdout"]),
                                           base64.b64decode(reply["stderr"]))

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(10)


if __name__ == "__main__":
    _serve()
