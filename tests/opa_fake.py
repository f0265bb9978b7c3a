"""A small stand-in for an OPA server, for the tests of the OPA server engine.

It speaks the part of OPA's REST API the engine uses — `GET /health`, `GET /v1/policies`,
`PUT`/`DELETE /v1/policies/<id>`, `POST /v1/data/amisec/rules` — on 127.0.0.1 on a free port,
in one background thread, and evaluates with the embedded engine, so the whole client path
(opa-python-client, requests, the engine's error mapping) runs against real HTTP. Each test sets
how it misbehaves. It shuts itself down after `lifetime` seconds whatever happens.

Evaluation runs in a child process (one per query): regopy has crashed the whole test process a
few times when evaluating in the server's thread, so the fake keeps it at arm's length and
retries a child that dies of a signal once.
"""
from __future__ import annotations

import json
import re
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Callable

_PROBLEM = re.compile(r"^(?P<file>[^:]+):(?P<row>\d+):(?P<col>\d+): (?P<message>.*)$")


class _Module:
    def __init__(self, path: str, source: str) -> None:
        self.path, self.source = path, source


class FakeOpa:
    """Configure the attributes, then `with FakeOpa() as opa: … opa.url …`."""

    def __init__(self, lifetime: float = 60.0, tls: tuple[str, str] | None = None) -> None:
        self.token: str | None = None  # when set, every request must carry `Bearer <token>`
        self.health_status = 200
        self.query_status: int | None = None  # answer the query with this error status
        self.query_body: bytes | None = None  # answer the query with these raw bytes (status 200)
        self.query_delay = 0.0  # seconds before answering the query
        self.redirect_to: str | None = None  # answer every request with a 307 to here
        self.bundle: tuple[list[Any], str] | None = None  # (modules, revision) served as a bundle
        self.version = "1.99.0-fake"
        self.compile_check: Callable[[str], bool] = lambda pid: False  # compile these uploads (slow), as OPA does
        self.policies: dict[str, str] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._stop = threading.Event()
        self._server = HTTPServer(("127.0.0.1", 0), _handler(self))
        scheme = "http"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True

    def __enter__(self) -> "FakeOpa":
        self._thread.start()
        self._timer.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving (idempotent); a handler waiting on `query_delay` is woken first."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._timer.cancel()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    # -- behaviour ------------------------------------------------------------------------
    def modules(self) -> list[Any]:
        """The modules the server evaluates: the bundle's, or those uploaded."""
        if self.bundle is not None:
            return list(self.bundle[0])
        return [_Module(pid, src) for pid, src in sorted(self.policies.items())]

    def evaluate(self, input_doc: Any) -> Any:
        """The value of data.amisec.rules, computed by the embedded engine in a child process."""
        answer = _child({"modules": [[m.path, m.source] for m in self.modules()], "input": input_doc})
        if "result" not in answer:
            raise RuntimeError(f"fake OPA cannot evaluate: {answer}")
        return answer["result"]

    def compile_errors(self, pid: str, source: str) -> list[dict[str, Any]]:
        """OPA-style compile errors of the uploaded set with this module added."""
        modules = [_Module(p, s) for p, s in sorted({**self.policies, pid: source}.items())]
        answer = _child({"modules": [[m.path, m.source] for m in modules], "input": None})
        if "problems" not in answer:
            return []
        return [_opa_error(p) for p in answer["problems"]] or [{"code": "rego_compile_error", "message": answer["message"]}]

    def provenance(self) -> dict[str, Any]:
        bundles = {"amisec": {"revision": self.bundle[1]}} if self.bundle else {}
        return {"version": self.version, "bundles": bundles}


_CHILD = """
import json, sys
from amisec.engine import EngineError
from amisec.engine.embedded import EmbeddedEngine
class M:
    def __init__(self, path, source):
        self.path, self.source = path, source
request = json.load(sys.stdin)
engine = EmbeddedEngine([M(p, s) for p, s in request["modules"]])
try:
    engine.prepare()
    answer = {} if request["input"] is None else {"result": engine.evaluate(request["input"])}
except EngineError as err:
    answer = {"message": err.message, "problems": list(err.problems)}
print(json.dumps(answer))
"""


def _child(request: dict[str, Any]) -> dict[str, Any]:
    """Run the embedded engine in a child process; one retry when the child dies of a signal."""
    payload = json.dumps(request)
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", _CHILD], input=payload, capture_output=True, text=True, timeout=120)
        if done.returncode >= 0:
            break
    if done.returncode != 0:
        raise RuntimeError(f"fake OPA evaluator failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def _opa_error(problem: str) -> dict[str, Any]:
    match = _PROBLEM.match(problem.splitlines()[0])
    if not match:
        return {"code": "rego_parse_error", "message": problem}
    location = {"file": match["file"], "row": int(match["row"]), "col": int(match["col"])}
    return {"code": "rego_parse_error", "message": match["message"], "location": location}


def _handler(opa: FakeOpa) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def _send(self, status: int, body: Any = None, raw: bytes | None = None, headers: dict[str, str] | None = None) -> None:
            payload = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _refused(self) -> bool:
            opa.requests.append((self.command, self.path, dict(self.headers)))
            if opa.redirect_to:
                self._send(307, headers={"Location": opa.redirect_to})
                return True
            if opa.token and self.headers.get("Authorization") != f"Bearer {opa.token}":
                self._send(401, {"code": "unauthorized", "message": "request rejected by administrative policy"})
                return True
            return False

        def do_GET(self) -> None:
            if self._refused():
                return
            if self.path == "/health":
                self._send(opa.health_status, {} if opa.health_status == 200 else {"error": "not ready"})
            elif self.path == "/v1/policies":
                self._send(200, {"result": [{"id": pid, "raw": src} for pid, src in sorted(opa.policies.items())]})
            else:
                self._send(404, {"code": "resource_not_found", "message": f"{self.path} not found"})

        def do_PUT(self) -> None:
            body = self._body()
            if self._refused():
                return
            pid = self.path.removeprefix("/v1/policies/")
            if opa.bundle is not None:
                self._send(400, {"code": "invalid_parameter", "message": f"path {pid} is owned by bundle \"amisec\""})
                return
            errors = opa.compile_errors(pid, body.decode()) if opa.compile_check(pid) else []
            if errors:
                self._send(400, {"code": "invalid_parameter", "message": "error(s) occurred while compiling module(s)", "errors": errors})
                return
            opa.policies[pid] = body.decode()
            self._send(200, {})

        def do_DELETE(self) -> None:
            if self._refused():
                return
            opa.policies.pop(self.path.removeprefix("/v1/policies/"), None)
            self._send(200, {})

        def do_POST(self) -> None:
            body = self._body()
            if self._refused():
                return
            if not self.path.startswith("/v1/data/amisec/rules"):
                self._send(404, {"code": "resource_not_found", "message": "not found"})
                return
            if opa.query_delay and opa._stop.wait(opa.query_delay):
                return
            if opa.query_status:
                self._send(opa.query_status, {"code": "internal_error", "message": "eval_conflict_error: boom"})
            elif opa.query_body is not None:
                self._send(200, raw=opa.query_body)
            else:
                self._answer(json.loads(body))

        def _answer(self, request: dict[str, Any]) -> None:
            answer: dict[str, Any] = {"decision_id": "fake"}
            if "provenance=true" in self.path:
                answer["provenance"] = opa.provenance()
            if opa.modules():
                answer["result"] = opa.evaluate(request["input"])
            self._send(200, answer)

    return Handler
