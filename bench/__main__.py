"""`python -m bench [scenario ...]`: runs the scenarios (all when none named).

Each run starts its own PostgreSQL and the processes a scenario needs on free
ports, prints the figures, and stops everything. Exit status 1 when a
scenario's correctness check fails (e.g. an oversell).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from bench import (
    availability,
    bopis_journey,
    inventory_reserve,
    placement,
    placement_trace,
    quote,
    stack_scenarios,
    till,
)
from bench.processes import BenchHome, bench_home

SCENARIOS: dict[str, Callable[[BenchHome], bool]] = {
    "inventory-reserve": inventory_reserve.run,
    "availability": availability.run,
    "placement": placement.run,
    "bopis-journey": bopis_journey.run,
    "quote": quote.run,
    "hot-sku": stack_scenarios.run_hot_sku,
    "availability-under-placement": stack_scenarios.run_availability_under_placement,
    "flash-sale": stack_scenarios.run_flash_sale,
    "footprint": stack_scenarios.run_footprint,
    "scale-out": stack_scenarios.run_scale_out,
    "journey-costs": stack_scenarios.run_journey_costs,
    "till-sale": till.run,
    "placement-trace": placement_trace.run,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("scenarios", nargs="*", help="any of: " + ", ".join(SCENARIOS))
    args = parser.parse_args(argv)
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error("unknown scenario: " + ", ".join(unknown))
    logging.basicConfig(level=logging.WARNING)
    chosen = args.scenarios or list(SCENARIOS)
    healthy = True
    with bench_home() as home:
        for name in chosen:
            healthy = SCENARIOS[name](home) and healthy
            print()
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
