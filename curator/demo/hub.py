"""The local HF-compatible hub: a HubStore served on loopback, for the demo and the tests.

Two listeners run in background threads: the API (``/api/models/...``, ``/{repo}/resolve/...``)
and a blob listener on another port standing in for the Hub's CDN, so LFS downloads cross
origins exactly as they do against huggingface.co::

    with HubServer(root) as hub:
        snapshot_download("acme-labs/tinyllama-clean", endpoint=hub.url, cache_dir=...)
"""

from __future__ import annotations

import socket
import threading
from collections import deque
from collections.abc import Iterable
from contextlib import suppress
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from curator.demo.faults import Faults
from curator.demo.handler import Request
from curator.demo.routes import ApiHandler, BlobHandler
from curator.demo.store import HubStore

if TYPE_CHECKING:
    from socketserver import BaseRequestHandler


class _Listener(ThreadingHTTPServer):
    """A threading HTTP server that can cut its open keep-alive connections on stop."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], handler: type[BaseRequestHandler], hub: HubServer) -> None:
        self.hub = hub
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: socket.socket | tuple[bytes, socket.socket],
                        client_address: object) -> None:
        if isinstance(request, socket.socket):
            with self._open_lock:
                self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket | tuple[bytes, socket.socket]) -> None:
        if isinstance(request, socket.socket):
            with self._open_lock:
                self._open.discard(request)
        super().shutdown_request(request)

    def cut_connections(self) -> None:
        with self._open_lock:
            for conn in list(self._open):
                with suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)


class HubServer:
    """Serve ``root`` (a folder or a HubStore) like the Hugging Face Hub, on loopback by default.

    ``port=0`` picks a free port (likewise ``blob_port``). ``tokens`` are the bearer tokens
    that open gated and private repos. ``page_size`` bounds tree listings (``Link: rel="next"``).
    ``faults`` may be replaced or changed while serving.
    """

    def __init__(self, root: Path | str | HubStore, host: str = "127.0.0.1", port: int = 0, *,
                 blob_port: int = 0, tokens: Iterable[str] = (), page_size: int = 1000,
                 faults: Faults | None = None, verbose: bool = False) -> None:
        self.store = root if isinstance(root, HubStore) else HubStore(root)
        self.host = host
        self.tokens = set(tokens)
        self.page_size = max(1, page_size)
        self.faults = faults or Faults()
        self.verbose = verbose
        self.requests: deque[Request] = deque(maxlen=10_000)
        self.lock = threading.Lock()
        self._ports = (port, blob_port)
        self._listeners: list[_Listener] = []
        self._threads: list[threading.Thread] = []

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> HubServer:
        """Bind both listeners and serve them in daemon threads; OSError if a port is taken."""
        if self._listeners:
            return self
        try:
            for port, handler in zip(self._ports, (ApiHandler, BlobHandler), strict=True):
                self._listeners.append(_Listener((self.host, port), handler, self))
        except OSError:
            self.stop()
            raise
        for listener in self._listeners:
            thread = threading.Thread(target=listener.serve_forever, kwargs={"poll_interval": 0.05},
                                      name=f"curator-hub:{listener.server_address[1]}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving, cut open connections, free the ports."""
        for listener in self._listeners:
            if self._threads:
                listener.shutdown()
            listener.cut_connections()
            listener.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listeners, self._threads = [], []

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._bound(0)

    @property
    def blob_port(self) -> int:
        return self._bound(1)

    @property
    def url(self) -> str:
        """The endpoint to give huggingface_hub (``endpoint=`` / ``HF_ENDPOINT``)."""
        return f"http://{self._public_host}:{self.port}"

    @property
    def blob_url(self) -> str:
        """The origin LFS downloads are redirected to."""
        return f"http://{self._public_host}:{self.blob_port}"

    @property
    def _public_host(self) -> str:
        return "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host

    def _bound(self, which: int) -> int:
        if not self._listeners:
            raise RuntimeError("the hub is not started: call start() or use it as a context manager")
        return int(self._listeners[which].server_address[1])

    # -- used by the handlers ------------------------------------------------------------
    def authorized(self, authorization: str | None) -> bool:
        """Whether an ``Authorization: Bearer <token>`` header carries one of our tokens."""
        scheme, _, token = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and token.strip() in self.tokens

    def note(self, request: Request) -> None:
        """Record an answered request (``requests`` keeps the last 10,000)."""
        self.requests.append(request)
