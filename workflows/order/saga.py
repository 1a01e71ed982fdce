"""A compensation stack for a journey, and the loop that makes a step happen.

Push what undoes a step BEFORE the call whose outcome may be unknown (a
timeout may hide a hold or an authorization that exists), and drop it when the
service refused for good (nothing happened). When the journey cannot finish,
`compensate` runs them newest first. Each compensation must be safe to run
twice (activities carry idempotency keys; releasing or voiding what is already
released or voided is a no-op), because a worker may crash in the middle and
replay.

A compensation that fails is not forgotten: it stays in `unfinished`, and the
journey's main loop runs it through `until_done`, which tries again on a
growing timer until it succeeds. While it keeps failing the workflow carries
NeedsAttention=true, the `omni_journey_step_failures` counter goes up and the
alert rule in deploy/k8s/components/monitoring fires: never silence.
Deterministic: usable inside workflow code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.order import visibility
from workflows.order.policies import refusal

Compensation = Callable[[], Awaitable[object]]

# The counter an alert watches (exported by the worker's Prometheus endpoint).
STEP_FAILURES_METRIC = "omni_journey_step_failures"
# How long until_done waits between tries: it grows, never beyond the last.
RETRY_AFTER = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)


@dataclass
class _Step:
    name: str
    undo: Compensation


@dataclass
class Saga:
    _steps: list[_Step] = field(default_factory=list)
    # Compensations that ran and failed: the main loop finishes them.
    unfinished: list[_Step] = field(default_factory=list)

    def push(self, name: str, undo: Compensation) -> None:
        self._steps.append(_Step(name, undo))

    def drop(self, name: str) -> None:
        """Forgets a compensation that no longer applies (its step was settled,
        or refused so that nothing happened)."""
        self._steps = [step for step in self._steps if step.name != name]

    def replace(self, name: str, undo: Compensation) -> None:
        """Swaps a step's compensation in place (a void that became a refund)."""
        for step in self._steps:
            if step.name == name:
                step.undo = undo
                return
        self.push(name, undo)

    @property
    def pending(self) -> list[str]:
        return [step.name for step in self._steps]

    async def compensate(self) -> None:
        """Runs every compensation newest first, once, then forgets them.

        A compensation that fails does not stop the others: the journey must
        give back everything it can. Those that failed move to `unfinished`
        (for `finish_unfinished`); the first failure is raised once all have run.
        """
        first_failure: BaseException | None = None
        while self._steps:
            step = self._steps.pop()
            try:
                await step.undo()
            except Exception as error:
                self.unfinished.append(step)
                if first_failure is None:
                    first_failure = error
        if first_failure is not None:
            raise first_failure

    async def finish_unfinished(self) -> None:
        """Runs each compensation that failed until it succeeds."""
        while self.unfinished:
            step = self.unfinished[0]
            await until_done(f"compensation {step.name}", step.undo)
            self.unfinished.pop(0)

    def clear(self) -> None:
        self._steps.clear()


async def until_done(what: str, call: Callable[[], Awaitable[Any]]) -> Any:
    """Runs `call` (one bounded activity call) until it succeeds. On the first
    failure: an error in the log, the failure counter, NeedsAttention=true; it
    is cleared when the call finally goes through."""
    failures = 0
    while True:
        try:
            result = await call()
        except ActivityError as error:
            reason, message, _ = refusal(error)
            workflow.logger.error("%s failed (%s: %s); trying again", what, reason, message)
            if failures == 0:
                workflow.metric_meter().create_counter(
                    STEP_FAILURES_METRIC, "journey steps that failed and are retried"
                ).add(1, {"step": what.split(" ", 1)[0], "reason": reason})
                visibility.flag_needs_attention(f"{what}: {reason}")
            await workflow.sleep(RETRY_AFTER[min(failures, len(RETRY_AFTER) - 1)])
            failures += 1
            continue
        if failures:
            visibility.clear_needs_attention()
        return result
