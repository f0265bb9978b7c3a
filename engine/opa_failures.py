"""What went wrong talking to an OPA server, in words that say what to do next.

Every failure of the OPA server engine ends here and becomes an EngineError (exit code 3): no
partial answer is ever passed on as a result. The token is scrubbed from every message.
"""
from __future__ import annotations

import json
import re
from typing import Any

import requests

_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")
_SSL = re.compile(r"\[SSL: [A-Z_]+\] ([^'\")\]]+?)\s*(?:\(_ssl\.c:\d+\))?['\")\]]")
_RESOLVE = re.compile(r"Failed to resolve '([^']+)'")
_MAX_DETAIL = 300


class HttpStatusError(Exception):
    """An OPA answer whose status is not 2xx; raised from a session hook, so no client code
    ever reads a refusal or an error page as an answer."""

    def __init__(self, response: requests.Response) -> None:
        self.status = response.status_code
        self.url = response.url
        self.location = response.headers.get("Location", "")
        self.body = _json_or_none(response)
        super().__init__(f"HTTP {self.status}")

    @property
    def message(self) -> str:
        """OPA's own `message` (or the start of a non-JSON body), if any."""
        if isinstance(self.body, dict) and isinstance(self.body.get("message"), str):
            return self.body["message"]
        return ""

    @property
    def errors(self) -> list[dict[str, Any]]:
        """OPA's detailed `errors` list (compile errors carry a location)."""
        errors = self.body.get("errors") if isinstance(self.body, dict) else None
        return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def raise_for_status(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """A requests response hook: anything but 2xx raises HttpStatusError.

    3xx included: following a redirect would turn the POST of the query into a GET without the
    input, and the rules would be evaluated against nothing.
    """
    if not 200 <= response.status_code < 300:
        raise HttpStatusError(response)


def scrub(text: str, secret: str | None) -> str:
    """`text` with every occurrence of the secret replaced by `***`."""
    return text.replace(secret, "***") if secret else text


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def network_reason(err: BaseException) -> str:
    """The operating system's or TLS library's reason inside a requests exception."""
    text = str(err)
    for pattern in (_SSL, _RESOLVE, _ERRNO):
        match = pattern.search(text)
        if match:
            reason = match.group(1).strip()
            return f"host name '{reason}' not found" if pattern is _RESOLVE else reason
    return _short(text)


def describe_http(err: HttpStatusError, url: str, step: str) -> str:
    """One sentence for a non-2xx answer during `step` (e.g. 'uploading the policies')."""
    detail = f": {_short(err.message)}" if err.message else ""
    if err.status in (401, 403):
        hint = " (or load the bundle from `amisec bundle` into OPA and use --opa-preloaded)" if step == "upload" else ""
        return f"OPA refused the request (HTTP {err.status}{detail}): check --opa-token{hint}"
    if 300 <= err.status < 400:
        where = f" to {err.location}" if err.location else ""
        return f"OPA at {url} answered with a redirect (HTTP {err.status}){where}: give the final address in --opa-url"
    if err.status == 404:
        return f"OPA at {url} has no such endpoint (HTTP 404 for {err.url}): check --opa-url and its path prefix"
    if err.status >= 500:
        return f"OPA at {url} failed (HTTP {err.status}{detail}): see the OPA server's log, then retry"
    return f"OPA at {url} rejected the request (HTTP {err.status}{detail})"


def describe_network(err: requests.RequestException, url: str, timeout: float) -> str:
    """One sentence for a request that got no usable answer at all."""
    if isinstance(err, requests.exceptions.InvalidHeader):
        return ("the OPA token cannot be sent in an HTTP header (it holds a line break or another control "
                "character): check --opa-token")
    if isinstance(err, requests.exceptions.SSLError):
        return f"TLS connection to OPA at {url} failed: {network_reason(err)} (give the server's CA certificate with --opa-ca)"
    if isinstance(err, requests.exceptions.Timeout):
        return f"OPA at {url} did not answer within {timeout:g} s: raise --timeout, or check the server's load"
    if isinstance(err, requests.exceptions.ConnectionError):
        return f"cannot reach OPA at {url}: {network_reason(err)} (is `opa run --server` running? check --opa-url)"
    if isinstance(err, ValueError):
        return f"OPA at {url} sent an answer that is not JSON: check that --opa-url points at an OPA server"
    return f"request to OPA at {url} failed: {network_reason(err)}"


def not_json(url: str) -> str:
    """The message for a 2xx answer whose body is not JSON."""
    return f"OPA at {url} sent an answer that is not JSON: check that --opa-url points at an OPA server"


def compile_problems(err: HttpStatusError, paths: dict[str, str]) -> tuple[str, ...]:
    """`file:line:col: message` for each compile error OPA reported; `paths` maps OPA's file
    names (the policy ids) back to the modules' own paths."""
    problems = []
    for error in err.errors or [{"message": err.message or json.dumps(err.body)[:_MAX_DETAIL]}]:
        location = error.get("location") if isinstance(error.get("location"), dict) else {}
        file_name = paths.get(str(location.get("file", "")), location.get("file"))
        where = f"{file_name}:{location.get('row', 0)}:{location.get('col', 0)}: " if file_name else ""
        problems.append(f"{where}{error.get('message', 'error')}")
    return tuple(problems)
