"""Ports for test servers come from below the ephemeral range, never twice."""

from __future__ import annotations

import socket

from stack.ports import _ephemeral_floor, free_port


def test_ports_are_bindable_distinct_and_below_the_ephemeral_range() -> None:
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    assert all(port < _ephemeral_floor() for port in ports)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", ports[0]))
