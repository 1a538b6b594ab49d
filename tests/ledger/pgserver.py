"""A throw-away PostgreSQL server for the ledger tests, and a fresh database per test.

``initdb`` into a temp folder and ``postgres`` on 127.0.0.1 at a free port, from the Debian
package (``make sysdeps`` installs it). PostgreSQL refuses to run as root, so under root
(CI) the server runs as the ``postgres`` user the package creates, else as ``nobody``.
``CURATOR_TEST_POSTGRES_URL`` (a role that may CREATE DATABASE) uses a server you already
run instead.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.needs import missing

EXTERNAL_ENV = "CURATOR_TEST_POSTGRES_URL"
INSTALL_HINT = ("run 'make sysdeps' (apt-get install postgresql) or set "
                f"{EXTERNAL_ENV} to a server where this role may CREATE DATABASE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/N/bin`` holding initdb and postgres."""
    found = [Path(d) for d in glob.glob("/usr/lib/postgresql/*/bin")
             if (Path(d) / "initdb").exists() and (Path(d) / "postgres").exists()]
    found.sort(key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)
    return found[-1] if found else None


def _server_user() -> pwd.struct_passwd | None:
    """Who runs the server: None (this user) unless we are root, which postgres refuses."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root with neither a 'postgres' nor a 'nobody' user to run the server")


@dataclass
class PgServer:
    """A running server (or an external one): hands out fresh databases."""

    base_url: str  # postgresql://ROLE@HOST:PORT, no database
    admin_db: str = "postgres"
    root: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    created: list[str] = field(default_factory=list)

    def url(self, database: str) -> str:
        return f"{self.base_url}/{database}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.url(self.admin_db), autocommit=True)

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        name = "curator_test_" + uuid.uuid4().hex[:12]
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self.admin() as conn:
            # FORCE: a test that failed half-way may leave a ledger connected
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown: ends sessions, no wait
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)


def start_server(fsync: bool = False, timeout: float = 60) -> PgServer:
    """initdb and start a private server; ``fsync`` off unless the caller measures durability."""
    bindir = postgres_bin()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres)")
    user = _server_user()
    # under /tmp, not pytest's 0700 tmp folders: the server's user must be able to enter it
    root = Path(tempfile.mkdtemp(prefix="curator-pg-"))
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    as_user: dict[str, object] = ({"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
                                  if user is not None else {})
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
    data, log = root / "data", root / "server.log"
    try:
        subprocess.run([str(bindir / "initdb"), "-D", str(data), "-U", "curator", "--auth=trust",
                        "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
                       cwd=root, env=env, capture_output=True, check=True, timeout=timeout,
                       **as_user)  # type: ignore[call-overload]
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {exc.stderr.decode(errors='replace').strip()}") from exc
    port = free_port()
    settings = ["listen_addresses=127.0.0.1", "max_connections=60", "shared_buffers=32MB",
                f"unix_socket_directories={root}", f"fsync={'on' if fsync else 'off'}",
                f"synchronous_commit={'on' if fsync else 'off'}", "full_page_writes=off"]
    args = [str(bindir / "postgres"), "-D", str(data), "-p", str(port)]
    for setting in settings:
        args += ["-c", setting]
    with open(log, "wb") as out:
        process = subprocess.Popen(args, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   **as_user)  # type: ignore[call-overload]
    server = PgServer(f"postgresql://curator@127.0.0.1:{port}", root=root, process=process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            server.admin().close()
            return server
        except psycopg.OperationalError:
            time.sleep(0.05)
    text = log.read_text(errors="replace").strip() if log.exists() else ""
    server.stop()
    raise RuntimeError(f"postgres did not start: {text[-500:]}")


_shared: PgServer | None = None
_failure: str | None = None


def shared_server() -> PgServer:
    """One server for the whole test session (started on first use, stopped at exit);
    skips the calling test, with the reason, when no server can be had."""
    global _shared, _failure
    if _shared is not None:
        return _shared
    if _failure is None:
        external = os.environ.get(EXTERNAL_ENV)
        try:
            if external:
                base, _, db = external.rstrip("/").rpartition("/")
                _shared = PgServer(base, admin_db=db or "postgres")
                _shared.admin().close()
            else:
                _shared = start_server()
                atexit.register(_shared.stop)
            return _shared
        except (OSError, RuntimeError, subprocess.SubprocessError, psycopg.Error) as exc:
            _shared = None
            _failure = f"no PostgreSQL server for the ledger tests ({exc}): {INSTALL_HINT}"
    missing(_failure, INSTALL_HINT)
