"""A tiny forwarding proxy on 127.0.0.1 that injects registry failures, for retry tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

#: decides, per request, whether to fail it: (method, path, request number) -> status or None
Fault = Callable[[str, str, int], int | None]
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class FaultyProxy:
    """Forwards to ``upstream``; ``fault`` may answer a request with an error instead."""

    def __init__(self, upstream: str, fault: Fault) -> None:
        self.upstream, self.fault = upstream, fault
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status sent)
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with proxy._lock:
                    number = len(proxy.requests)
                    status = proxy.fault(self.command, self.path, number)
                    proxy.requests.append((self.command, self.path, status or 0))
                if status:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
                resp = requests.request(self.command, proxy.upstream + self.path, headers=headers,
                                        data=body, allow_redirects=False, timeout=30)
                with proxy._lock:
                    proxy.requests[number] = (self.command, self.path, resp.status_code)
                self.send_response(resp.status_code)
                for k, v in resp.headers.items():
                    if k.lower() not in HOP:
                        self.send_header(k, v)
                data = b"" if self.command == "HEAD" else resp.content
                self.send_header("Content-Length", resp.headers.get("Content-Length", str(len(data)))
                                 if self.command == "HEAD" else str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
