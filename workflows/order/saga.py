"""A compensation stack for a journey.

After each forward step succeeds, push what undoes it; when the journey cannot
finish, `compensate` runs them newest first. Each compensation must be safe to
run twice (activities carry idempotency keys), because a worker may crash in
the middle and replay. Deterministic: usable inside workflow code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Compensation = Callable[[], Awaitable[object]]


@dataclass
class _Step:
    name: str
    undo: Compensation


@dataclass
class Saga:
    _steps: list[_Step] = field(default_factory=list)

    def push(self, name: str, undo: Compensation) -> None:
        self._steps.append(_Step(name, undo))

    def drop(self, name: str) -> None:
        """Forgets a compensation that no longer applies (its step was settled)."""
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
        """Runs every compensation newest first, then forgets them.

        A compensation that fails for good does not stop the others: the
        journey must give back everything it can. The first failure is raised
        once all have run.
        """
        first_failure: BaseException | None = None
        while self._steps:
            step = self._steps.pop()
            try:
                await step.undo()
            except Exception as error:
                if first_failure is None:
                    first_failure = error
        if first_failure is not None:
            raise first_failure

    def clear(self) -> None:
        self._steps.clear()
