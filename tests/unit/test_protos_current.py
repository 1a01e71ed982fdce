"""Generated code in omni/ must be exactly what the protos produce today."""

from __future__ import annotations

import filecmp
from pathlib import Path

from stack.protos import ROOT, generate


def test_generated_code_matches_the_protos(tmp_path: Path) -> None:
    fresh = generate(tmp_path)
    assert fresh, "protoc generated nothing"
    committed = sorted(
        p for p in (ROOT / "omni").rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    fresh_names = [p.relative_to(tmp_path) for p in fresh]
    committed_names = [p.relative_to(ROOT) for p in committed]
    assert committed_names == fresh_names, "run `make protos`: files differ"
    stale = [
        str(name)
        for name in fresh_names
        if not filecmp.cmp(tmp_path / name, ROOT / name, shallow=False)
    ]
    assert stale == [], f"run `make protos`: stale generated files {stale}"
