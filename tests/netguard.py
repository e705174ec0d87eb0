"""No packet leaves 127.0.0.0/8 during the tests: names resolve from a table, and every
TCP or UDP connect to another address fails in the test process.

A test maps a host name to addresses with the ``names`` fixture (conftest); any other
name fails to resolve, so a bug in the URL guard fails the test instead of reaching a
private or metadata address.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

NAMES: dict[str, list[str]] = {}
"""Host name -> addresses, filled by tests; "localhost" is 127.0.0.1."""

_REAL_GETADDRINFO = socket.getaddrinfo
_REAL_CONNECT = socket.socket.connect
_REAL_CONNECT_EX = socket.socket.connect_ex


class RefusedByTestGuard(ConnectionRefusedError):
    """A connect the test suite refused: the address is not loopback."""


def _getaddrinfo(
    host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
) -> list[Any]:
    name = host.decode() if isinstance(host, bytes) else host
    if name is None:
        return _REAL_GETADDRINFO(host, port, family, type, proto, flags)
    try:
        ipaddress.ip_address(str(name).split("%")[0])
    except ValueError:
        pass
    else:
        return _REAL_GETADDRINFO(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
    addresses = ["127.0.0.1"] if name == "localhost" else NAMES.get(str(name).lower())
    if addresses is None:
        raise socket.gaierror(socket.EAI_NONAME, f"{name!r}: not in the test suite's name table")
    found: list[Any] = []
    for address in addresses:
        found += _REAL_GETADDRINFO(address, port, family, type, proto, socket.AI_NUMERICHOST)
    return found


def _loopback(address: Any) -> bool:
    try:
        ip = ipaddress.ip_address(str(address[0]).split("%")[0])
    except (ValueError, IndexError, TypeError):
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _check(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address):
        raise RefusedByTestGuard(f"the test suite refuses a connect to {address!r}")


def _connect(self: socket.socket, address: Any) -> None:
    _check(self, address)
    _REAL_CONNECT(self, address)


def _connect_ex(self: socket.socket, address: Any) -> int:
    _check(self, address)
    return _REAL_CONNECT_EX(self, address)


def install() -> None:
    """Stub name resolution and refuse non-loopback connects for this process."""
    socket.getaddrinfo = _getaddrinfo
    socket.socket.connect = _connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign,assignment]
