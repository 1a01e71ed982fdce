"""CPU time spent per operation by each side of a benchmark (Linux /proc).

The load generator, the services and PostgreSQL share the machine's cores, so
throughput alone cannot say who is slow: these figures can. PostgreSQL is
counted as its postmaster plus every backend it has forked.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces; everything after its ')' splits cleanly.
    return text[text.rindex(")") + 2 :].split()


def process_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """User + system CPU seconds of one process (0 when it is gone); with
    `reaped_children`, also of its children that exited and were waited for
    (cutime, cstime), so a backend that ends mid-measurement still counts."""
    try:
        fields = _stat_fields(pid)
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # After the name: state ppid ... utime is field 14 overall, index 11 here.
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICKS_PER_SECOND


def children_of(parent: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat_fields(int(entry.name))[1]) == parent:
                    children.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                continue
    return children


@dataclass(frozen=True)
class Side:
    """One side of the benchmark: a name and the processes it is made of."""

    name: str
    pids: Sequence[int]
    with_children: bool = False  # PostgreSQL: the postmaster's backends too

    def seconds(self) -> float:
        total = sum(process_seconds(pid, reaped_children=self.with_children) for pid in self.pids)
        if self.with_children:
            children = [child for pid in self.pids for child in children_of(pid)]
            total += sum(process_seconds(child) for child in children)
        return total


class CpuMeter:
    """CPU seconds each side spent between `start()` and `stop()`."""

    def __init__(self, sides: Sequence[Side]) -> None:
        self.sides = sides
        self._started: dict[str, float] = {}

    def start(self) -> None:
        self._started = {side.name: side.seconds() for side in self.sides}

    def stop(self) -> dict[str, float]:
        return {side.name: side.seconds() - self._started[side.name] for side in self.sides}


def per_operation_line(spent: Mapping[str, float], operations: int) -> str:
    """`cpu/op: client 120 us, service 400 us, postgres 150 us, total 670 us`."""
    if not operations:
        return "cpu/op: no operations"
    parts = [f"{name} {seconds / operations * 1e6:.0f} us" for name, seconds in spent.items()]
    total = sum(spent.values()) / operations * 1e6
    return f"cpu/op: {', '.join(parts)}, total {total:.0f} us"
