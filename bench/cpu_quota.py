"""Give each gateway instance of a benchmark a CPU quota of its own (a cgroup), so that two
instances can be compared with one on a machine with fewer cores than they would need.

On two cores one instance, its PostgreSQL server and the load generator already fill the machine,
so a second instance only shows oversubscription. With a quota of Q CPUs per instance (and Q
small enough that the instances, the server and the load generator together stay under the
machine's cores) nothing waits for a core: what two instances give over one is what the software
scales by, as if each had Q cores' worth of its own machine.

Needs root and the cgroup `cpu` controller: v1 (`/sys/fs/cgroup/cpu`) or v2 (`/sys/fs/cgroup`
with `cpu` in `cgroup.controllers`). The server's processes are not capped: they are shared by
every instance, as on a production database host, and their CPU is reported apart.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

PERIOD_US = 100_000
V1, V2 = Path("/sys/fs/cgroup/cpu"), Path("/sys/fs/cgroup")


def _root() -> tuple[Path, int]:
    if (V1 / "cpu.cfs_quota_us").exists():
        return V1, 1
    if "cpu" in ((V2 / "cgroup.controllers").read_text().split() if (V2 / "cgroup.controllers").exists() else []):
        return V2, 2
    raise SystemExit("--instance-cpus needs the cgroup cpu controller (v1 /sys/fs/cgroup/cpu or v2)")


def make_quota_group(name: str, cpus: float, stack: ExitStack) -> Path:
    """A cgroup limited to `cpus` CPUs, removed at the end of `stack`; returns its cgroup.procs,
    into which a process writes its own pid (see `join`) before it starts the gateway."""
    root, version = _root()
    group = root / name
    try:
        group.mkdir(exist_ok=True)
        quota = round(cpus * PERIOD_US)
        if version == 1:
            (group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (group / "cpu.cfs_quota_us").write_text(str(quota))
        else:
            (root / "cgroup.subtree_control").write_text("+cpu")
            (group / "cpu.max").write_text(f"{quota} {PERIOD_US}")
    except OSError as exc:
        raise SystemExit(f"--instance-cpus: cannot set up the cgroup {group}: {exc} (needs root)") from exc
    stack.callback(_remove, group, root)
    return group / "cgroup.procs"


def join(procs: Path):
    """A `preexec_fn` for subprocess: the child enters the group before it executes the gateway,
    so the processing processes it starts later are in it too."""
    def enter() -> None:
        procs.write_text("0")  # "0": the writing process itself
    return enter


def _remove(group: Path, root: Path) -> None:
    # Any process left in the group (a gateway that would not stop) goes back to the root first.
    try:
        for pid in (group / "cgroup.procs").read_text().split():
            (root / "cgroup.procs").write_text(pid)
        group.rmdir()
    except OSError:
        pass
