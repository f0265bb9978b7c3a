"""The OPA server engine: the same policies evaluated by an Open Policy Agent server.

Through opa-python-client: a health check, the policies uploaded through the policy API (or,
with `preloaded`, a check that the server serves the bundle `amisec bundle` writes), then
`POST /v1/data/amisec/rules` with the compiled input. Where the client hides what is needed —
the cause of a failed health check, HTTP status codes, a path prefix, a CA file — its own
requests session is used, so every request still goes through the client's configuration.

Every failure is an EngineError (exit code 3) whose message says what to do; the token never
appears in a message; TLS certificates are always verified.
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from amisec.gc_pause import gc_paused

from . import PolicyModule
from .errors import EngineError
from .opa_failures import (
    HttpStatusError,
    compile_problems,
    describe_http,
    describe_network,
    not_json,
    raise_for_status,
    scrub,
)

DEFAULT_TIMEOUT = 30.0
PACKAGE, RULE = "amisec", "rules"
POLICY_ID_PREFIX = "amisec/"
_SEGMENT_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_T = TypeVar("_T")


@dataclass(frozen=True)
class OpaUrl:
    """Where the OPA server listens: scheme, host, port and an optional path prefix (a proxy)."""

    scheme: str
    host: str
    port: int
    prefix: str = ""

    @property
    def tls(self) -> bool:
        """Whether the connection is HTTPS."""
        return self.scheme == "https"

    @property
    def netloc_host(self) -> str:
        """The host as it goes into a URL (IPv6 addresses in brackets)."""
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def base(self) -> str:
        """`scheme://host:port/prefix`, the root every OPA path is appended to."""
        return f"{self.scheme}://{self.netloc_host}:{self.port}{self.prefix}"

    def __str__(self) -> str:
        return self.base


def parse_url(url: str) -> OpaUrl:
    """Parse `--opa-url`; raises ValueError (a usage mistake) saying what is wrong."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--opa-url '{url}' is not an http:// or https:// URL with a host (e.g. http://127.0.0.1:8181)")
    if parts.username or parts.password:
        raise ValueError("--opa-url must not carry credentials: give the token with --opa-token or AMISEC_OPA_TOKEN")
    if parts.query or parts.fragment:
        raise ValueError(f"--opa-url '{url}' must not have a query or a fragment")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValueError(f"--opa-url '{url}' has an invalid port") from None
    return OpaUrl(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))


def policy_id(path: str) -> str:
    """The policy API id of a module: `amisec/` + its path with only URL-safe characters."""
    segments = [s for s in path.replace("\\", "/").split("/") if s not in ("", ".", "..")]
    return POLICY_ID_PREFIX + "/".join(_SEGMENT_UNSAFE.sub("_", s) for s in segments)


def query_revisions(provenance: Any) -> set[str]:
    """The bundle revisions an OPA answer's `provenance` names (current and legacy layouts)."""
    if not isinstance(provenance, dict):
        return set()
    revisions = {b.get("revision") for b in (provenance.get("bundles") or {}).values() if isinstance(b, dict)}
    revisions.add(provenance.get("revision"))
    return {r for r in revisions if isinstance(r, str) and r}


def read_answer(body: Any, preloaded: bool, expected_revision: str | None = None) -> dict:
    """The value of `data.amisec.rules` in an OPA data API answer; EngineError when the answer
    is not one (no policies loaded, a different policy set, a malformed document)."""
    if not isinstance(body, dict):
        raise EngineError("OPA's answer is not a JSON object: check that --opa-url points at an OPA server")
    if "result" not in body:
        hint = (
            "run without --opa-preloaded, or load the bundle from `amisec bundle`"
            if preloaded
            else "they were uploaded but are gone (was the OPA server restarted meanwhile?): run again"
        )
        raise EngineError(f"OPA has no amisec policies loaded: {hint}")
    if expected_revision is not None:
        served = query_revisions(body.get("provenance"))
        if expected_revision not in served:
            names = ", ".join(sorted(served)) or "none"
            raise EngineError(
                f"OPA serves a different amisec policy set (bundle revision {names}; this amisec's is "
                f"{expected_revision}): load the bundle from `amisec bundle`, or run without --opa-preloaded"
            )
    result = body["result"]
    if not isinstance(result, dict):
        raise EngineError(f"OPA's data.amisec.rules is a {type(result).__name__}, not an object of rule families")
    return result


class _PinnedCaAdapter(HTTPAdapter):
    """Verifies against one CA file whatever the environment says: requests lets
    REQUESTS_CA_BUNDLE override a session's own `verify`, which would silently ignore --opa-ca."""

    def __init__(self, ca_file: str) -> None:
        super().__init__(max_retries=0)
        self.ca_file = ca_file

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs["verify"] = self.ca_file
        return super().send(request, **kwargs)


def new_client(url: OpaUrl, token: str | None, ca_file: str | None, timeout: float) -> Any:
    """An opa-python-client OpaClient aimed at `url`, failing on any non-2xx answer.

    No retries: a failure is reported at once, and `timeout` bounds each request.
    """
    from opa_client import OpaClient  # 0.25 s to import: only when this engine is used

    client = OpaClient(host=url.netloc_host, port=url.port, ssl=url.tls, token=token, retries=0, timeout=timeout)
    client.root_url = f"{url.base}/v1"  # the client itself knows no path prefix
    session = client._session
    session.hooks["response"].append(raise_for_status)
    if ca_file:
        session.mount("https://", _PinnedCaAdapter(ca_file))
    return client


class OpaServerEngine:
    """Evaluates the policies on an OPA server; connects on first use (or `prepare()`)."""

    name = "opa"

    def __init__(
        self,
        modules: Sequence[PolicyModule],
        url: str,
        token: str | None = None,
        ca_file: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        preloaded: bool = False,
    ) -> None:
        if not modules:
            raise EngineError("no policy modules to evaluate")
        if timeout <= 0:
            raise ValueError("--timeout must be a positive number of seconds")
        self.url = parse_url(url)
        if ca_file and not self.url.tls:
            raise ValueError("--opa-ca applies to an https:// --opa-url only")
        if ca_file and not os.path.isfile(ca_file):
            raise ValueError(f"--opa-ca '{ca_file}' is not a file")
        self.version = f"OPA server at {self.url}"
        self._modules = tuple(modules)
        _check_unique_ids(self._modules)
        self._token = token or None
        self._ca_file = ca_file
        self._timeout = float(timeout)
        self._preloaded = preloaded
        self._expected_revision: str | None = None
        self._client: Any = None
        self._lock = threading.Lock()

    # -- failures --------------------------------------------------------------------------
    def _fail(self, message: str, problems: Sequence[str] = ()) -> EngineError:
        return EngineError(scrub(message, self._token), tuple(scrub(p, self._token) for p in problems))

    def _call(self, step: str, action: Callable[[], _T]) -> _T:
        """Run one request; any failure becomes an EngineError that says what to do."""
        try:
            return action()
        except HttpStatusError as err:
            raise self._fail(describe_http(err, str(self.url), step)) from None
        except requests.RequestException as err:
            raise self._fail(describe_network(err, str(self.url), self._timeout)) from None
        except ValueError:  # a 2xx answer whose body is not JSON
            raise self._fail(not_json(str(self.url))) from None
        except Exception as err:  # the client's own exception classes
            if not type(err).__module__.startswith("opa_client"):
                raise
            raise self._fail(f"OPA at {self.url} gave an answer the client could not use: {err}") from None

    # -- connection ------------------------------------------------------------------------
    def prepare(self) -> None:
        """Connect now: health check, then the policies uploaded (or the bundle expected)."""
        with self._lock:
            if self._client is None:
                self._connect()

    def _connect(self) -> None:
        client = new_client(self.url, self._token, self._ca_file, self._timeout)
        health = f"{self.url.base}/health"
        # check_health() answers only True/False; the session call keeps the reason
        self._call("health", lambda: client._session.get(health, timeout=self._timeout))
        if self._preloaded:
            from .bundle import bundle_revision, standards_data

            self._expected_revision = bundle_revision(self._modules, standards_data())
        else:
            self._sync_policies(client)
        self._client = client

    def _sync_policies(self, client: Any) -> None:
        wanted = self._modules_by_id()
        stale = self._delete(client, [i for i in self._listed_ids(client) if i not in wanted])
        self._upload(client, list(wanted.items()))
        if stale and self._delete(client, stale):
            raise self._fail(
                "OPA keeps amisec policies from an earlier run that cannot be removed: delete them "
                "(DELETE /v1/policies/ID) or restart the OPA server",
                stale,
            )

    def _listed_ids(self, client: Any) -> list[str]:
        """Ids of the amisec policies the server holds.

        Not the client's get_policies_list(): it asks for `/v1/policies/` with a trailing
        slash, which OPA 1.x routes to the single-policy endpoint (404).
        """
        url = f"{client.root_url}/policies"
        body = self._call("upload", lambda: client._session.get(url, timeout=self._timeout).json())
        listed = body.get("result") if isinstance(body, dict) else None
        if not isinstance(listed, list):
            raise self._fail(not_json(str(self.url)))
        ids = (p.get("id") for p in listed if isinstance(p, dict))
        return [i for i in ids if isinstance(i, str) and i.startswith(POLICY_ID_PREFIX)]

    def _delete(self, client: Any, ids: list[str]) -> list[str]:
        """Delete policies, retrying those others still depend on; returns those left."""
        pending = list(ids)
        while pending:
            left = []
            for pid in pending:
                try:
                    self._call("upload", lambda pid=pid: client.delete_policy(pid))
                except EngineError:
                    left.append(pid)
            if len(left) == len(pending):
                return left
            pending = left
        return []

    def _upload(self, client: Any, items: list[tuple[str, PolicyModule]]) -> None:
        """PUT every module; a module whose imports are not there yet is retried after the
        others, so the order of the modules does not matter."""
        pending = items
        while pending:
            rejected = []
            for pid, module in pending:
                err = self._call("upload", lambda pid=pid, module=module: _put(client, pid, module))
                if err is not None:
                    rejected.append((pid, err))
            if len(rejected) == len(pending):
                self._rejected([err for _, err in rejected])
            again = {pid for pid, _ in rejected}
            pending = [(pid, module) for pid, module in pending if pid in again]

    def _rejected(self, errors: list[HttpStatusError]) -> None:
        texts = [err.message for err in errors] + [str(e.get("message")) for err in errors for e in err.errors]
        if any("owned by bundle" in text for text in texts):
            raise self._fail(
                "OPA serves a bundle that owns the amisec policies, so they cannot be uploaded: "
                "use --opa-preloaded (the bundle must be the one `amisec bundle` writes)"
            )
        paths = {pid: m.path for pid, m in self._modules_by_id().items()}
        problems = tuple(dict.fromkeys(p for err in errors for p in compile_problems(err, paths)))
        raise self._fail("OPA rejected the policies", problems)

    def _modules_by_id(self) -> dict[str, PolicyModule]:
        return {policy_id(m.path): m for m in self._modules}

    # -- evaluation ------------------------------------------------------------------------
    def evaluate(self, input_doc: Mapping[str, Any]) -> dict:
        """The value of `data.amisec.rules` for this input, as OPA computes it."""
        self.prepare()
        client = self._client
        with gc_paused():  # a large answer is millions of acyclic objects: a collection only rescans them
            body = self._call(
                "query",
                lambda: client.query_rule(dict(input_doc), PACKAGE, RULE, query_params={"provenance": "true"}),
            )
            result = read_answer(body, self._preloaded, self._expected_revision)
        provenance = body.get("provenance") if isinstance(body, dict) else None
        if isinstance(provenance, dict) and isinstance(provenance.get("version"), str):
            self.version = f"OPA {provenance['version']}"
        return result


def _check_unique_ids(modules: Sequence[PolicyModule]) -> None:
    seen: dict[str, str] = {}
    for module in modules:
        pid = policy_id(module.path)
        if pid in seen:
            raise EngineError(f"{module.path} and {seen[pid]} would both be OPA policy {pid}: rename one of them")
        seen[pid] = module.path


def _put(client: Any, pid: str, module: PolicyModule) -> HttpStatusError | None:
    """Upload one module; OPA's refusal to compile it (HTTP 400) is returned, not raised."""
    try:
        # rego_compat=False: the client's default rewrites policies by regex when OPA rejects them
        client.update_policy_from_string(module.source, pid, rego_compat=False)
    except HttpStatusError as err:
        if err.status == 400:
            return err
        raise
    return None
