"""Shared by ``bench/run.py`` (the conductor) and ``bench/worker.py`` (one engine, one run).

Sizes, where the data of each size lives, peak memory of a process tree, the
machine description, and the canonical form of determinations that every peer is
checked against.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / "data"
DECREE = ROOT / "decrees" / "kp-2015-10-party-founding.toml"
PROFILE = "kp-2015"
SEED = 2015

_SUFFIX = {"k": 1_000, "m": 1_000_000}


@dataclass(frozen=True)
class Size:
    label: str  # "100k", "1m", "10m"
    persons: int

    @classmethod
    def parse(cls, text: str) -> Size:
        t = text.strip().lower()
        m = re.fullmatch(r"(\d+)([km]?)", t)
        if not m:
            raise SystemExit(f"bad size {text!r}: write 100k, 1m, 2000 ...")
        n = int(m.group(1)) * _SUFFIX.get(m.group(2), 1)
        return cls(t, n)

    @property
    def dir(self) -> Path:
        return DATA / f"{PROFILE}-{self.label}"

    @property
    def parquet(self) -> Path:
        return self.dir / "parquet"

    @property
    def duckdb(self) -> Path:
        return self.dir / "registry.duckdb"


def proc_status_kb(pid: int, key: str) -> int:
    """A ``/proc/<pid>/status`` memory line in kB (0 when the process is gone)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (children, grandchildren ...)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out: list[int] = []
    todo = [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def tree_peak_kb(extra_pids: tuple[int, ...] = ()) -> int:
    """Peak RSS (VmHWM) of this process plus every live descendant (a JVM, a server
    backend passed in ``extra_pids``): the memory the engine needed, summed."""
    me = os.getpid()
    pids = [me, *descendants(me), *extra_pids]
    return sum(proc_status_kb(p, "VmHWM") for p in pids)


def _run(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return "not installed"


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = proc_meminfo("MemTotal")
    java = (
        _run(["java", "-version"])
        or subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[
            0
        ]
    )
    pg = _run(["postgres", "--version"]) or _run(["pg_ctl", "--version"])
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return {
        "cpus (nproc)": str(os.cpu_count()),
        "load average (1, 5, 15 min) when written": load,
        "cpu": cpu or platform.processor(),
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "duckdb": _version("duckdb"),
        "sqlglot": _version("sqlglot"),
        "postgresql": pg or "not found",
        "pyspark": _version("pyspark"),
        "java": java,
        "polars": _version("polars"),
        "openfisca-core": _version("openfisca-core"),
        "numpy": _version("numpy"),
        "rule-engine": _version("rule-engine"),
        "zen-engine": _version("zen-engine"),
        "pyarrow": _version("pyarrow"),
    }


def proc_meminfo(key: str) -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
