"""What the benchmarks read of a process from /proc: its tree, its CPU seconds and its peak memory
(and the local PostgreSQL server's CPU, which shares the machine's cores with the gateway)."""

from __future__ import annotations

import os
from pathlib import Path


def process_tree(pid: int) -> list[int]:
    """The process and its live descendants (HELPDESK_PROCESSING_PROCESSES runs the pipeline in children)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    tree, grown = [pid], True
    while grown:
        more = [child for child, parent in parents.items() if parent in tree and child not in tree]
        tree.extend(more)
        grown = bool(more)
    return tree


def peak_rss_mib(pid: int) -> float | None:
    """Peak resident memory of the process and its children, each one's peak added up (an upper
    bound: they need not peak at the same moment)."""
    total = None
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue  # a child that exited meanwhile
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total = (total or 0) + int(line.split()[1]) / 1024
    return total


def _stat_cpu_seconds(stat: str) -> float:
    """utime + stime from the text of a /proc/<pid>/stat (after the command name, which may hold spaces)."""
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds(pid: int) -> float:
    """utime + stime of one process (all its threads), from /proc/<pid>/stat; 0 once it is gone."""
    try:
        return _stat_cpu_seconds(Path(f"/proc/{pid}/stat").read_text())
    except OSError:
        return 0.0  # a child that exited meanwhile


def cpu_seconds(pid: int) -> float:
    """CPU of a process and of its live children (the processing processes)."""
    return sum(own_cpu_seconds(member) for member in process_tree(pid))


def postgres_cpu_seconds() -> float:
    """CPU of every local PostgreSQL server process (it shares the machine's cores with the gateway)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # ended meanwhile
        if "(postgres)" in text:
            total += _stat_cpu_seconds(text)
    return total
