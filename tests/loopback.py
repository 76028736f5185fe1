"""A guard that keeps a Python process on loopback: name lookups and connections beyond
127.0.0.1 are refused and recorded (used by conftest for the test process, and in subprocesses
that must prove they send nothing out)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any


def is_loopback(host: object) -> bool:
    """Whether `host` (a name or address, as getaddrinfo or connect get it) stays on this machine."""
    if host in (None, "", b""):
        return True  # binding to a local port
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        return False


def guard(attempts: list[str]) -> Callable[[], None]:
    """Refuses (OSError) and appends to `attempts` every lookup or connection beyond loopback from
    now on; returns the function that lifts the guard."""
    lookup, connect, connect_ex = socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex

    def refuse(host: object, what: str) -> None:
        attempts.append(f"{what} {host!r}")
        raise OSError(f"loopback only: no {what} {host!r}")

    def guarded_lookup(host: object, *args: Any, **kwargs: Any) -> list:
        if not is_loopback(host):
            refuse(host, "lookup of")
        return lookup(host, *args, **kwargs)

    def guarded(method: Callable[..., Any]) -> Callable[..., Any]:
        def call(self: socket.socket, address: Any, *args: Any) -> Any:
            if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
                refuse(address[0], "connection to")
            return method(self, address, *args)

        return call

    socket.getaddrinfo = guarded_lookup
    socket.socket.connect, socket.socket.connect_ex = guarded(connect), guarded(connect_ex)

    def lift() -> None:
        socket.getaddrinfo = lookup
        socket.socket.connect, socket.socket.connect_ex = connect, connect_ex

    return lift
