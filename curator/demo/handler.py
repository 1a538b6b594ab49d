"""HTTP plumbing shared by the hub's two listeners: JSON answers, Hub-style errors, byte ranges.

Bytes go out with Range support (206/416) and, when a test asks for it, with the
faults of ``Faults``: a flipped byte, or a connection cut at a file offset.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
import time
from contextlib import nullcontext, suppress
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import NamedTuple, Protocol

from curator.demo.faults import Faults, hits
from curator.demo.store import HubStore

CHUNK = 1 << 20
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
UNSATISFIABLE = (-1, -1)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(first, last)`` byte of a single ``Range``, None for the whole body, UNSATISFIABLE for 416.

    A malformed or multi-part range is ignored, as RFC 9110 allows: the whole body is sent.
    """
    match = _RANGE.fullmatch((header or "").replace(" ", ""))
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if not first:  # suffix: the last N bytes
        n = int(last)
        return (max(0, size - n), size - 1) if n and size else UNSATISFIABLE
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None
    return (start, end) if start < size else UNSATISFIABLE


class Request(NamedTuple):
    """One answered request, as tests observe it."""

    listener: str  # "ApiHandler" | "BlobHandler"
    method: str
    path: str
    status: int
    with_token: bool  # an Authorization header came with it


class HubState(Protocol):
    """What the handlers read and record on the hub that serves them (``HubServer`` is one).

    The handlers know this shape, not the server: the server imports the routes, and the
    routes the handlers, so nothing points back up.
    """

    store: HubStore
    faults: Faults
    lock: threading.Lock
    verbose: bool
    host: str
    page_size: int

    @property
    def url(self) -> str: ...

    @property
    def blob_port(self) -> int: ...

    def note(self, request: Request) -> None: ...

    def authorized(self, authorization: str | None) -> bool: ...


class HubHandler(BaseHTTPRequestHandler):
    """Base of both listeners: keep-alive HTTP/1.1, quiet logs, one error shape."""

    protocol_version = "HTTP/1.1"
    server_version = "curator-hub/1"
    timeout = 60  # an idle keep-alive connection frees its thread after this
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall between

    @property
    def hub(self) -> HubState:
        hub: HubState = getattr(self.server, "hub")  # noqa: B009 - set by the listener
        return hub

    def route(self) -> None:  # pragma: no cover - each listener overrides it
        self.send_error(404)

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        try:
            self.route()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away; nothing to answer
        except Exception as exc:  # noqa: BLE001 - a bug must show as a 500, not a hung client
            print(f"curator-hub: {self.command} {self.path}: {exc!r}", file=sys.stderr)
            self.close_connection = True
            with suppress(OSError):
                self.send_json(500, {"error": f"internal error: {exc}"})

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.hub.note(Request(type(self).__name__, self.command, self.path,
                              int(code) if str(code).isdigit() else 0, "Authorization" in self.headers))
        if self.hub.verbose:
            sys.stderr.write(f"curator-hub: {self.command} {self.path} {code}\n")

    def log_message(self, format: str, *args: object) -> None:
        if self.hub.verbose:
            sys.stderr.write(f"curator-hub: {format % args}\n")

    # -- answers -------------------------------------------------------------------------
    def send_json(self, status: int, doc: object, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_hub_error(self, status: int, code: str | None, message: str,
                       headers: dict[str, str] | None = None) -> None:
        """An error the way the Hub sends it: ``X-Error-Code``/``X-Error-Message`` + JSON body."""
        extra = dict(headers or {})
        if code:
            extra["X-Error-Code"] = code
        extra["X-Error-Message"] = message
        self.send_json(status, {"error": message}, extra)

    def send_bytes(self, key: str, size: int, headers: dict[str, str],
                   location: Path | None = None, data: bytes | None = None) -> None:
        """A file body from disk (``location``) or memory (``data``), with Range and faults.

        ``key`` is the file's repo path: the per-path faults are looked up with it.
        """
        rng = parse_range(self.headers.get("Range"), size)
        if rng == UNSATISFIABLE:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start, end = rng or (0, size - 1)
        if self.command == "GET" and hits(self.hub.faults.endless, key):
            self._send_endless(headers)
            return
        self.send_response(206 if rng else 200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(max(0, end - start + 1)))
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if self.command == "HEAD" or end < start:
            return
        faults = self.hub.faults
        cut = faults.drop_offset(key)
        if cut is not None and cut > end:
            cut = None  # this range ends before the cut
        flip = size // 2 if hits(faults.corrupt, key) and start <= size // 2 <= end else None
        if key in faults.drip:
            self._send_drip(faults.drip[key], start, end, location, data)
            return
        if location is not None and cut is None and flip is None:
            with open(location, "rb") as fh:
                self.connection.sendfile(fh, start, end - start + 1)
            return
        self._send_slowly(key, start, end, cut, flip, location, data)

    def _send_endless(self, headers: dict[str, str]) -> None:
        """No length, no end: only the client's own limit stops it (capped at 1 GiB here)."""
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        block = b"\xee" * CHUNK
        try:
            for _ in range((1 << 30) // CHUNK):
                self.wfile.write(block)
                with self.hub.lock:
                    self.hub.faults.endless_sent += len(block)
        except OSError:
            return

    def _send_drip(self, seconds: float, start: int, end: int, location: Path | None,
                   data: bytes | None) -> None:
        body = location.read_bytes() if location is not None else data or b""
        try:
            for pos in range(start, end + 1):
                self.wfile.write(body[pos:pos + 1])
                self.wfile.flush()
                time.sleep(seconds)
        except OSError:
            return

    def _send_slowly(self, key: str, start: int, end: int, cut: int | None, flip: int | None,
                     location: Path | None, data: bytes | None) -> None:
        stop = end + 1 if cut is None else max(start, cut)
        pos = start
        with open(location, "rb") if data is None and location else nullcontext(None) as fh:
            if fh:
                fh.seek(start)
            while pos < stop:
                n = min(CHUNK, stop - pos)
                chunk = bytearray(fh.read(n) if fh else (data or b"")[pos:pos + n])
                if not chunk:
                    break
                if flip is not None and pos <= flip < pos + len(chunk):
                    chunk[flip - pos] ^= 0xFF
                self.wfile.write(chunk)
                pos += len(chunk)
        if cut is not None:
            with self.hub.lock:
                self.hub.faults.dropped(key)
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)  # mid-body: the client sees a cut, not an end

