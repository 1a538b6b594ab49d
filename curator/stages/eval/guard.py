"""The eval child's network guard: refuse at once, never hang, unless the host is allowed.

HF offline variables stop the libraries that honour them; this stops everything else
that goes through Python sockets (datasets URLs, a stray ``requests.get``). Only the
serving engine a team configured (``eval.backend.base_url``) may be reached.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

REFUSED = "curator eval runs offline: network access to {} refused"


class NetworkRefused(ConnectionRefusedError):
    """Raised by the guard instead of connecting."""


def _host_of(address: object) -> str:
    return str(address[0]) if isinstance(address, tuple) and address else str(address)


def _numeric(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def refuse_network(allowed_hosts: set[str]) -> None:
    """Patch Python's socket layer in this process: only ``allowed_hosts`` connect."""
    allowed = {h.lower() for h in allowed_hosts}
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.lower() not in allowed and not _numeric(name):  # numeric: no lookup, connect decides
            raise socket.gaierror(socket.EAI_NONAME, REFUSED.format(name))
        infos = real_getaddrinfo(host, *args, **kwargs)
        if name.lower() in allowed:  # an allowed name's addresses are allowed too
            allowed.update(str(info[4][0]).lower() for info in infos)
        return infos

    def permitted(sock: socket.socket, address: object) -> bool:
        return sock.family not in (socket.AF_INET, socket.AF_INET6) or _host_of(address).lower() in allowed

    def connect(self: socket.socket, address: socket._Address) -> None:
        if not permitted(self, address):
            raise NetworkRefused(REFUSED.format(_host_of(address)))
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: socket._Address) -> int:
        if not permitted(self, address):
            raise NetworkRefused(REFUSED.format(_host_of(address)))
        return real_connect_ex(self, address)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
