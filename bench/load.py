"""Closed-loop load: N callers repeat an operation until the time is up."""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from bench.cpu import CpuMeter, Side


@dataclass
class Outcome:
    seconds: float
    succeeded: int = 0
    refused: int = 0  # an expected business answer (e.g. out of stock)
    failed: int = 0  # anything else: a bug or an overload
    latencies: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return (self.succeeded + self.refused) / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        """In milliseconds."""
        if not self.latencies:
            return 0.0
        if len(self.latencies) == 1:
            return self.latencies[0] * 1000
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return cuts[round(fraction * 100) - 1] * 1000

    def figures(self) -> dict[str, float | int]:
        """What a results line records of a run."""
        return {
            "per_second": round(self.per_second, 2),
            "p50_ms": round(self.percentile(0.50), 2),
            "p99_ms": round(self.percentile(0.99), 2),
            "ok": self.succeeded,
            "failed": self.failed,
        }

    def line(self, label: str) -> str:
        return (
            f"{label:<34} {self.per_second:>9.0f}/s  p50 {self.percentile(0.50):6.2f} ms"
            f"  p99 {self.percentile(0.99):7.2f} ms  ok {self.succeeded}  refused"
            f" {self.refused}  failed {self.failed}"
        )


# Seconds a spawned worker gets to import, connect and warm up before measuring.
WORKER_START_SECONDS = 4.0

# An operation answers True (done), False (refused as expected); raising is a failure.
Operation = Callable[[], Awaitable[bool]]


async def drive(callers: int, seconds: float, operation: Operation) -> Outcome:
    outcome = Outcome(seconds)
    deadline = time.monotonic() + seconds

    async def caller() -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                done = await operation()
            except Exception:
                outcome.failed += 1
                continue
            outcome.latencies.append(time.perf_counter() - started)
            if done:
                outcome.succeeded += 1
            else:
                outcome.refused += 1

    started = time.monotonic()
    await asyncio.gather(*(caller() for _ in range(callers)))
    outcome.seconds = time.monotonic() - started
    return outcome


# --- the load generator in its own processes --------------------------------------
#
# A Python gRPC client costs about as much CPU per call as the server does, so a
# single client process caps what it can measure. Each scenario therefore runs
# its callers in `workers` processes of their own (spawned, so nothing is
# inherited from this one) and merges what they saw; their CPU time is counted
# apart from the system under test's.

# Builds, inside a worker, the operation its callers repeat (and tears it down).
OperationFactory = Callable[[], AbstractAsyncContextManager[Operation]]


@dataclass
class WorkerResult:
    outcome: Outcome
    cpu_seconds: float


async def _drive_at(
    factory: OperationFactory, callers: int, seconds: float, warm_up: float, start_at: float
) -> WorkerResult:
    async with factory() as operation:
        await drive(callers, warm_up, operation)
        await asyncio.sleep(max(0.0, start_at - time.time()))
        cpu_before = time.process_time()
        outcome = await drive(callers, seconds, operation)
        return WorkerResult(outcome, time.process_time() - cpu_before)


def _worker(
    factory: OperationFactory, callers: int, seconds: float, warm_up: float, start_at: float
) -> WorkerResult:
    return asyncio.run(_drive_at(factory, callers, seconds, warm_up, start_at))


def drive_in_processes(
    factory: OperationFactory,
    *,
    workers: int,
    callers: int,
    seconds: float,
    warm_up: float,
    on_start: Callable[[], None] = lambda: None,
) -> tuple[Outcome, float]:
    """`callers` spread over `workers` processes, all measuring the same `seconds`
    after a warm-up; the merged outcome and the workers' CPU seconds.
    `on_start` runs when measuring begins (to start a CPU meter)."""
    shares = [callers // workers + (1 if n < callers % workers else 0) for n in range(workers)]
    # Time for every worker to start and connect, then the warm-up, before measuring.
    start_at = time.time() + WORKER_START_SECONDS + warm_up
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [
            pool.submit(_worker, factory, share, seconds, warm_up, start_at) for share in shares
        ]
        time.sleep(max(0.0, start_at - time.time()))
        on_start()
        results = [future.result() for future in futures]
    merged = Outcome(max(r.outcome.seconds for r in results))
    for result in results:
        merged.succeeded += result.outcome.succeeded
        merged.refused += result.outcome.refused
        merged.failed += result.outcome.failed
        merged.latencies.extend(result.outcome.latencies)
    return merged, sum(r.cpu_seconds for r in results)


def drive_metered(
    factory: OperationFactory,
    sides: Sequence[Side],
    *,
    workers: int,
    callers: int,
    seconds: float,
    warm_up: float,
) -> tuple[Outcome, dict[str, float]]:
    """`drive_in_processes` with the CPU seconds each side spent in the
    measured window, the load generator's own first."""
    meter = CpuMeter(sides)
    outcome, client_seconds = drive_in_processes(
        factory,
        workers=workers,
        callers=callers,
        seconds=seconds,
        warm_up=warm_up,
        on_start=meter.start,
    )
    return outcome, {"load generator": client_seconds, **meter.stop()}
