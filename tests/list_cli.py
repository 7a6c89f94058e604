"""The `helpdesk` entry point run in this process (argv, environment, exit code, stdout and stderr as
the shell sees them), so the list tests can afford dozens of invocations; tests/service.py runs
the installed command in a subprocess where the process itself matters."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

from helpdesk import cli
from tests.conftest import free_port
from tests.service import service_env


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def one_line_error(self, *needles: str) -> str:
        """A refusal: non-zero exit, nothing on stdout, exactly one line on stderr, no traceback."""
        assert self.code != 0 and self.out == "", (self.code, self.out)
        assert "Traceback" not in self.err and len(self.err.strip().splitlines()) == 1, self.err
        for needle in needles:
            assert needle in self.err, self.err
        return self.err


def in_process_cli(db_url: str, monkeypatch) -> Callable[..., Run]:
    """For a fixture: call the result as helpdesk("tickets", "list", ...), the real main() with
    run_cli's error handling, against db_url."""
    for key, value in service_env(db_url, free_port(), None).items():
        if key.startswith("HELPDESK_"):
            monkeypatch.setenv(key, value)

    def run(*args: str) -> Run:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "argv", ["helpdesk", *args])
        code = 0
        with redirect_stdout(out), redirect_stderr(err):
            try:
                cli.main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        return Run(code, out.getvalue(), err.getvalue())
    return run
