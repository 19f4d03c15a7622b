"""Shared pieces of the benchmarks: a moto server that counts requests, and a private keyring.

Not collected by pytest (no ``test_`` names); run the ``bench_*.py`` scripts directly.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: make ``tests`` and ``wizard`` importable
    sys.path.insert(0, str(ROOT))

_SERVICE_IN_AUTH = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")
_READ_VERBS = ("Get", "List", "Describe", "Head", "Simulate")


class RequestLog:
    """Every AWS request the server answered, as ``service:Operation`` (or ``s3:METHOD /path``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: list[tuple[str, str, bool]] = []

    def add(self, service: str, operation: str, mutating: bool) -> None:
        with self._lock:
            self.calls.append((service, operation, mutating))

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def snapshot(self) -> list[tuple[str, str, bool]]:
        with self._lock:
            return list(self.calls)


_S3_VERB = {"PUT": "Put", "GET": "Get", "HEAD": "Head", "DELETE": "Delete", "POST": "Post"}


def _s3_operation(method: str, path: str, query: str) -> str:
    """S3's REST request as its API operation name (path-style, as boto3 uses with an endpoint)."""
    has_key = len(path.lstrip("/").split("/", 1)) == 2
    sub = query.split("=", 1)[0].split("&", 1)[0]
    verb = _S3_VERB.get(method, method)
    if path in ("", "/"):
        return "ListBuckets"
    if sub and sub not in ("list-type", "prefix", "delimiter"):
        return f"{verb}{'Object' if has_key else 'Bucket'}{sub[0].upper()}{sub[1:]}"
    if has_key:
        return f"{verb}Object"
    return {"PUT": "CreateBucket", "GET": "ListObjects", "HEAD": "HeadBucket",
            "DELETE": "DeleteBucket"}.get(method, f"{verb}Bucket")


def _classify(environ: dict[str, Any], body: bytes) -> tuple[str, str, bool] | None:
    path = environ.get("PATH_INFO", "")
    if path.startswith("/moto-api"):
        return None
    method = environ.get("REQUEST_METHOD", "GET")
    auth = environ.get("HTTP_AUTHORIZATION", "")
    found = _SERVICE_IN_AUTH.search(auth)
    service = found.group(1) if found else "unknown"
    if service == "s3":
        return service, _s3_operation(method, path, environ.get("QUERY_STRING", "")), \
            method in {"PUT", "POST", "DELETE"}
    action = parse_qs(body.decode("utf-8", "replace")).get("Action", ["?"])[0]
    target = environ.get("HTTP_X_AMZ_TARGET")
    operation = action if action != "?" else (target or f"{method} {path}")
    name = operation.rsplit(".", 1)[-1]
    return service, operation, not name.startswith(_READ_VERBS)


def _counting(app: Callable, log: RequestLog) -> Callable:
    def counted(environ: dict[str, Any], start_response: Callable) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        seen = _classify(environ, body)
        if seen is not None:
            log.add(*seen)
        return app(environ, start_response)

    return counted


@contextmanager
def counting_moto_server() -> Iterator[tuple[str, RequestLog]]:
    """moto's real server (as ``ThreadedMotoServer`` builds it) behind a request counter."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    for name in ("werkzeug", "moto"):
        logging.getLogger(name).setLevel(logging.ERROR)
    log = RequestLog()
    app = _counting(DomainDispatcherApplication(create_backend_app), log)
    server = make_server("127.0.0.1", 0, app, True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host}:{port}", log
    finally:
        server.shutdown()
        thread.join()


def reset_moto(endpoint: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))


@contextmanager
def private_keyring() -> Iterator[Any]:
    """A GNOME Keyring on its own D-Bus session, exactly as the tests start it."""
    from tests.fixtures.keyring_service import start_secret_service

    root = Path(tempfile.mkdtemp(prefix="bench-keyring-"))
    service = start_secret_service(root / "svc")
    try:
        yield service
    finally:
        service.stop()
        shutil.rmtree(root, ignore_errors=True)


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment for a child process: no real AWS config, a throwaway HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CIRCLE_"))}
    (home / ".aws").mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        AWS_CONFIG_FILE=str(home / ".aws" / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.pop("DISPLAY", None)
    env.update(extra)
    return env


def venv_tool(name: str) -> str:
    """A command installed next to this interpreter (the project's venv), else on PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed; run with `uv run --group bench ...`")
    return found


def timed(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, str]:
    """Wall time of one process, and its stdout; a failure stops the benchmark loudly."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout


def summary(samples: list[float]) -> str:
    return f"{statistics.median(samples):7.3f} s (min {min(samples):.3f})"


def mutating(calls: list[tuple[str, str, bool]]) -> Counter[str]:
    """How often each mutating operation was called."""
    return Counter(f"{service}:{operation}" for service, operation, write in calls if write)


def reads(calls: list[tuple[str, str, bool]]) -> Counter[str]:
    """How often each read-only operation was called."""
    return Counter(f"{service}:{operation}" for service, operation, write in calls if not write)
