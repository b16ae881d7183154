"""Running the pages: the listening socket, and uvicorn (a production ASGI server) on it."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from review.errors import TeamError
from review.web.app import is_loopback, make_app

if TYPE_CHECKING:
    from review.api import Review


def bind(host: str, port: int) -> tuple[socket.socket, bool]:
    """A listening socket on host:port (port 0: a free one), and whether it is loopback."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TeamError(f"cannot listen on {host!r}: {exc.strerror}; give an address") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise TeamError(
            f"cannot listen on {host}:{port}: {exc.strerror}; choose another --port"
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock, is_loopback(str(address[0]))


def run(review: Review, sock: socket.socket, *, loopback: bool) -> None:
    """Serve until interrupted. X-Forwarded-Proto is believed only from 127.0.0.1 (a TLS
    proxy on this machine)."""
    import uvicorn

    config = uvicorn.Config(
        make_app(review, loopback=loopback),
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        access_log=False,
        log_level="warning",
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run(sockets=[sock])
