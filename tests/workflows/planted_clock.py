"""A workflow that breaks the determinism rule on purpose (test_worker_runner.py):
its own module, so the sandbox can import it as it imports a real workflow's."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow


# A restricted call fails the run (not only its task), so the test sees it.
@workflow.defn(failure_exception_types=[workflow.NondeterminismError])
class ReadsTheClock:
    @workflow.run
    async def run(self) -> str:
        return datetime.now().isoformat()  # what workflow code must never do
