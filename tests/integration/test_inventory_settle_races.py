"""How a reservation ends (CommitReservation, ReleaseReservation) under races,
on the real inventory service and PostgreSQL: settled once whatever races it,
stock rows locked in one order, the ledger exactly what was sold."""

from __future__ import annotations

import asyncio

from omni.inventory.v1 import inventory_pb2 as pb
from omni.words import ReservationStatus
from services.common.db import Database
from tests.support.inventory import (
    Stub,
    commit_part_of_a_hold,
    create_product,
    ledger_sum,
    receive,
    reserve_request,
    sql,
    stock_of,
    stocked,
    two_skus_held,
)


async def _movements(database: Database, reservation_id: str) -> str:
    return str(
        await sql(
            database,
            "SELECT coalesce(string_agg(sku || ':' || reason || ':' || delta, ','"
            " ORDER BY sku), '') FROM stock_movements WHERE reference = :ref",
            ref=reservation_id,
        )
    )


async def _no_violations(stub: Stub, location_id: str, skus: list[str]) -> None:
    checked = await stub.CheckInvariants(pb.CheckInvariantsRequest(skus=skus))
    assert [v for v in checked.violations if v.location_id == location_id] == []


async def test_racing_commits_and_releases_of_one_reservation_settle_it_once(
    stub: Stub, database: Database
) -> None:
    location_id, first, second, held = await two_skus_held(stub, (10, 10), (3, 2))
    reservation_id = held.reservation_id
    commits = [
        stub.CommitReservation(pb.CommitReservationRequest(reservation_id=reservation_id))
        for _ in range(10)
    ]
    releases = [
        stub.ReleaseReservation(pb.ReleaseReservationRequest(reservation_id=reservation_id))
        for _ in range(10)
    ]
    answers = await asyncio.gather(*commits, *releases)
    statuses = {ReservationStatus.from_proto(a.reservation.status) for a in answers}
    assert len(statuses) == 1, statuses  # every caller is told the one outcome
    # ... the same reservation, lines included (each read after its lock).
    assert len({a.reservation.SerializeToString() for a in answers}) == 1
    (outcome,) = statuses
    one = await stock_of(stub, location_id, first)
    two = await stock_of(stub, location_id, second)
    if outcome == ReservationStatus.COMMITTED:
        assert (one.on_hand, one.reserved, two.on_hand, two.reserved) == (7, 0, 8, 0)
        assert await _movements(database, reservation_id) == ",".join(
            sorted([f"{first}:commit:-3", f"{second}:commit:-2"])
        )
    else:
        assert outcome == ReservationStatus.RELEASED
        assert (one.on_hand, one.reserved, two.on_hand, two.reserved) == (10, 0, 10, 0)
        assert await _movements(database, reservation_id) == ""
    assert await ledger_sum(database, location_id, first) == one.on_hand
    await _no_violations(stub, location_id, [first, second])


async def test_commits_over_the_same_skus_listed_in_either_order_never_deadlock(
    stub: Stub,
) -> None:
    """Each commit locks its stock rows in sku order, as reserve_stock() does:
    twenty reservations of the same two skus (their lines listed either way
    round), committed all at once beside new reservations of those rows,
    all succeed (PostgreSQL would abort one of a deadlocked pair)."""
    location_id, first = await stocked(stub, 100)
    second = await create_product(stub)
    await receive(stub, location_id, second, 100)
    held = []
    for index in range(20):
        lines = {first: 1, second: 2} if index % 2 else {second: 2, first: 1}
        held.append((await stub.ReserveStock(reserve_request(location_id, lines))).reservation)
    committing = [
        stub.CommitReservation(pb.CommitReservationRequest(reservation_id=h.reservation_id))
        for h in held
    ]
    reserving = [
        stub.ReserveStock(reserve_request(location_id, {second: 1, first: 1})) for _ in range(10)
    ]
    committed, reserved = await asyncio.gather(
        asyncio.gather(*committing), asyncio.gather(*reserving)
    )
    assert {ReservationStatus.from_proto(c.reservation.status) for c in committed} == {
        ReservationStatus.COMMITTED
    }
    assert {ReservationStatus.from_proto(r.reservation.status) for r in reserved} == {
        ReservationStatus.ACTIVE
    }
    one = await stock_of(stub, location_id, first)
    two = await stock_of(stub, location_id, second)
    assert (one.on_hand, one.reserved) == (80, 10)
    assert (two.on_hand, two.reserved) == (60, 10)
    await _no_violations(stub, location_id, [first, second])


async def test_a_partial_commit_records_only_what_was_sold(stub: Stub, database: Database) -> None:
    sold = await commit_part_of_a_hold(stub)
    first, second, held = sold.first, sold.second, sold.held
    assert [(line.sku, line.quantity) for line in sold.committed.lines] == [(first, 3)]
    assert await _movements(database, held.reservation_id) == f"{first}:commit:-3"
    kept = await sql(
        database,
        "SELECT string_agg(sku || '=' || quantity || '/' || committed_quantity, ',' ORDER BY sku)"
        " FROM reservation_lines WHERE reservation_id = :id",
        id=held.reservation_id,
    )
    assert kept == ",".join(sorted([f"{first}=4/3", f"{second}=2/0"]))
    # Read again: the reservation shows what was sold, not what was held.
    again = await stub.CommitReservation(
        pb.CommitReservationRequest(reservation_id=held.reservation_id)
    )
    assert again.reservation == sold.committed
    await _no_violations(stub, sold.location_id, [first, second])


async def test_a_commit_racing_the_expiry_sweep_gives_the_hold_back_once(
    stub: Stub, database: Database
) -> None:
    location_id, sku = await stocked(stub, 6)
    held = (
        await stub.ReserveStock(reserve_request(location_id, {sku: 4}, ttl_seconds=600))
    ).reservation
    await sql(
        database,
        "UPDATE reservations SET expires_at = now() - interval '1 second'"
        " WHERE reservation_id = :id",
        id=held.reservation_id,
    )
    commit = pb.CommitReservationRequest(reservation_id=held.reservation_id)
    # Availability reads sweep holds past their TTL; the commits expire it themselves.
    answers = await asyncio.gather(
        *(stub.CommitReservation(commit) for _ in range(5)),
        *(stub.GetAvailability(pb.GetAvailabilityRequest(skus=[sku])) for _ in range(5)),
    )
    for answer in answers[:5]:
        assert isinstance(answer, pb.CommitReservationResponse)
        assert ReservationStatus.from_proto(answer.reservation.status) == "expired"
    level = await stock_of(stub, location_id, sku)
    assert (level.on_hand, level.reserved) == (6, 0)
    assert await _movements(database, held.reservation_id) == ""
    await _no_violations(stub, location_id, [sku])
