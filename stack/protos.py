"""Generates the Python code for protos/ into omni/ (never edited by hand).

`python -m stack.protos` writes into the repository; `generate(out_dir)` lets a
test generate into a temporary folder and compare.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"


def proto_files() -> list[Path]:
    return sorted(PROTO_ROOT.glob("omni/**/*.proto"))


def generate(out_dir: Path) -> list[Path]:
    """Runs protoc for every proto and adds the package __init__ files."""
    well_known = str(resources.files("grpc_tools") / "_proto")
    files = [str(p.relative_to(PROTO_ROOT)) for p in proto_files()]
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *files,
    ]
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed")
    package_dirs = {out_dir / "omni"}
    for proto in files:
        parent = (out_dir / proto).parent
        while parent != out_dir:
            package_dirs.add(parent)
            parent = parent.parent
    for directory in package_dirs:
        (directory / "__init__.py").touch()
    return sorted(p for p in (out_dir / "omni").rglob("*") if p.is_file())


if __name__ == "__main__":
    written = generate(ROOT)
    print(f"generated {len(written)} files under omni/", file=sys.stderr)
