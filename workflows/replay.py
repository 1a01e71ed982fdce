"""Replay recorded histories on today's workflow code: `python -m workflows.replay FILE...`.

Each FILE is a history as `temporal workflow show --workflow-id ID --output json`
writes it (encrypted payloads and all: the Replayer decodes them with
OMNI_CODEC_KEY, and unencrypted ones as they are). Exit 0 when every history
replays; 1 with the first non-determinism of each that does not (a change that
needs `workflow.patched`). See docs/tracing-an-order.md.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from services.common.temporal_codec import CodecError, data_converter


async def replay(paths: list[Path]) -> int:
    from workflows.worker import WORKFLOWS

    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter())
    failed = 0
    for path in paths:
        history = WorkflowHistory.from_json(path.stem, path.read_text())
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is None:
            print(f"ok      {path}")
        else:
            failed += 1
            print(f"FAILED  {path}: {result.replay_failure}")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    try:
        return asyncio.run(replay([Path(arg) for arg in argv]))
    except CodecError as error:
        print(f"cannot decode: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    status = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # temporalio can crash the interpreter at exit (DESIGN.md, known traps).
    os._exit(status)
