"""The OPA server engine: request building and answer mapping without a server, then the whole
path (CLI → engine → opa-python-client → HTTP) against a fake OPA server for every failure mode.

The fake server evaluates with the embedded engine, so a successful run here checks the wiring,
not parity with OPA (tests/test_parity.py does that when an `opa` binary is present).
"""
from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from requests.adapters import HTTPAdapter

from amisec.cli import main
from amisec.engine import EngineError, get_engine
from amisec.engine.bundle import bundle_revision, standards_data
from amisec.engine.opa_failures import (
    HttpStatusError,
    compile_problems,
    describe_http,
    describe_network,
    raise_for_status,
    scrub,
)
from amisec.engine.opa_server import (
    OpaServerEngine,
    _PinnedCaAdapter,
    new_client,
    parse_url,
    policy_id,
    query_revisions,
    read_answer,
)
from amisec.policies.catalog import load_catalog
from opa_fake import FakeOpa

ROOT = Path(__file__).resolve().parent.parent
RIVERSIDE = str(ROOT / "deployments" / "riverside.ami")
SECRET = "s3cret-token-0f9a"


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch):
    """A proxy configured in the environment must not intercept the local test servers."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture
def opa():
    with FakeOpa(lifetime=60) as server:
        yield server


def run_cli(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, ["check", RIVERSIDE, "-f", "json", *args], env=env or {}, catch_exceptions=False)


def report_without_run_facts(output: str) -> dict[str, Any]:
    doc = json.loads(output)
    for key in ("engine", "timestamp"):
        doc.pop(key, None)
    return doc


# -- the URL and the policy ids --------------------------------------------------------------
@pytest.mark.parametrize("url, base, prefix", [
    ("http://127.0.0.1:8181", "http://127.0.0.1:8181", ""),
    ("https://opa.example.com/", "https://opa.example.com:443", ""),
    ("https://gw.example.com:8443/opa/", "https://gw.example.com:8443/opa", "/opa"),
    ("http://[::1]:8181", "http://[::1]:8181", ""),
    ("http://opa", "http://opa:80", ""),
])
def test_parse_url(url, base, prefix):
    parsed = parse_url(url)
    assert parsed.base == base
    assert parsed.prefix == prefix


@pytest.mark.parametrize("url, words", [
    ("127.0.0.1:8181", "http:// or https://"),
    ("ftp://opa:21", "http:// or https://"),
    ("http://user:pw@opa:8181", "--opa-token"),
    ("http://opa:99999", "invalid port"),
    ("http://opa:8181/?x=1", "query"),
])
def test_parse_url_rejects(url, words):
    with pytest.raises(ValueError, match=words.replace("?", r"\?").replace(".", r"\.")):
        parse_url(url)


def test_policy_ids_are_url_safe_and_under_amisec():
    assert policy_id("policies/rules/ownership.rego") == "amisec/policies/rules/ownership.rego"
    odd = policy_id("/home/ann/my policies/../acme%net.rego")
    assert odd == "amisec/home/ann/my_policies/acme_net.rego"
    assert policy_id("C:\\rules\\x.rego") == "amisec/C_/rules/x.rego"


# -- request building ------------------------------------------------------------------------
class _Recorder(HTTPAdapter):
    """Answers every request with a canned response and keeps what was sent."""

    def __init__(self, status: int = 200, body: bytes = b'{"result": {}}') -> None:
        super().__init__()
        self.sent: list[tuple[requests.PreparedRequest, dict[str, Any]]] = []
        self.status, self.body = status, body

    def send(self, request, **kwargs):
        self.sent.append((request, kwargs))
        response = requests.Response()
        response.status_code, response._content, response.url = self.status, self.body, request.url
        response.request = request
        return response


def test_query_request(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("not checked here")
    client = new_client(parse_url("https://opa.example:8443/gw"), SECRET, str(ca), 7.5)
    assert client.root_url == "https://opa.example:8443/gw/v1"
    assert client.timeout == 7.5
    recorder = _Recorder()
    client._session.mount("https://", recorder)
    client.query_rule({"devices": [1]}, "amisec", "rules", query_params={"provenance": "true"})
    request, kwargs = recorder.sent[0]
    assert request.method == "POST"
    assert request.url == "https://opa.example:8443/gw/v1/data/amisec/rules?provenance=true"
    assert json.loads(request.body) == {"input": {"devices": [1]}}
    assert request.headers["Authorization"] == f"Bearer {SECRET}"
    assert kwargs["timeout"] == 7.5


def test_policy_upload_request_is_sent_verbatim():
    client = new_client(parse_url("http://127.0.0.1:8181"), None, None, 3)
    recorder = _Recorder(body=b"{}")
    client._session.mount("http://", recorder)
    source = "package amisec.rules.x\n\nimport rego.v1\n\nr := 1\n"
    client.update_policy_from_string(source, policy_id("policies/rules/x.rego"), rego_compat=False)
    request, _ = recorder.sent[0]
    assert (request.method, request.url) == ("PUT", "http://127.0.0.1:8181/v1/policies/amisec/policies/rules/x.rego")
    assert request.body == source.encode()
    assert "Authorization" not in request.headers


def test_ca_file_wins_over_environment(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/somewhere/else.pem")
    monkeypatch.setattr(HTTPAdapter, "send", lambda self, request, **kw: seen.update(kw))
    _PinnedCaAdapter(str(tmp_path / "ca.pem")).send(requests.Request("GET", "https://x/").prepare(), verify="/somewhere/else.pem")
    assert seen["verify"] == str(tmp_path / "ca.pem")


def test_non_2xx_raises_from_the_session_hook():
    response = requests.Response()
    response.status_code, response._content, response.url = 403, b'{"message": "denied"}', "http://x/v1/data"
    with pytest.raises(HttpStatusError) as caught:
        raise_for_status(response)
    assert caught.value.status == 403 and caught.value.message == "denied"
    response.status_code = 204
    assert raise_for_status(response) is None


# -- answer mapping --------------------------------------------------------------------------
def test_read_answer_returns_the_rule_families():
    assert read_answer({"result": {"ownership": {}}, "decision_id": "x"}, preloaded=False) == {"ownership": {}}


def test_read_answer_without_result_says_no_policies():
    with pytest.raises(EngineError, match="no amisec policies loaded: run without --opa-preloaded, or load the bundle"):
        read_answer({"decision_id": "x"}, preloaded=True)


@pytest.mark.parametrize("body, words", [
    ([1, 2], "not a JSON object"),
    ({"result": ["a"]}, "is a list, not an object of rule families"),
    ({"result": None}, "is a NoneType"),
])
def test_read_answer_rejects_malformed(body, words):
    with pytest.raises(EngineError, match=words):
        read_answer(body, preloaded=False)


def test_read_answer_checks_the_bundle_revision():
    body = {"result": {}, "provenance": {"version": "1.7.1", "bundles": {"amisec": {"revision": "abc"}}}}
    assert read_answer(body, preloaded=True, expected_revision="abc") == {}
    with pytest.raises(EngineError, match="bundle revision abc; this amisec's is def"):
        read_answer(body, preloaded=True, expected_revision="def")
    assert query_revisions({"revision": "legacy", "bundles": {"b": {"revision": "r"}}}) == {"legacy", "r"}
    assert query_revisions(None) == set()


def _http_error(status: int, body: bytes, headers: dict[str, str] | None = None) -> HttpStatusError:
    response = requests.Response()
    response.status_code, response._content, response.url = status, body, "http://opa:8181/v1/data/amisec/rules"
    response.headers.update(headers or {})
    return HttpStatusError(response)


@pytest.mark.parametrize("status, body, step, words", [
    (401, b'{"code": "unauthorized"}', "query", "OPA refused the request (HTTP 401): check --opa-token"),
    (403, b'{"message": "denied"}', "upload", "HTTP 403: denied): check --opa-token (or load the bundle"),
    (500, b'{"message": "eval_conflict_error"}', "query", "failed (HTTP 500: eval_conflict_error): see the OPA server's log"),
    (503, b"<html>busy</html>", "health", "failed (HTTP 503): see the OPA server's log"),
    (404, b"", "query", "no such endpoint (HTTP 404 for http://opa:8181/v1/data/amisec/rules): check --opa-url"),
    (413, b'{"message": "too big"}', "query", "rejected the request (HTTP 413: too big)"),
])
def test_describe_http(status, body, step, words):
    assert words in describe_http(_http_error(status, body), "http://opa:8181", step)


def test_describe_redirect_names_the_target():
    err = _http_error(308, b"", {"Location": "https://opa:8443/"})
    assert "redirect (HTTP 308) to https://opa:8443/: give the final address in --opa-url" in describe_http(err, "http://opa:8181", "query")


@pytest.mark.parametrize("err, words", [
    (requests.exceptions.ConnectionError(
        "HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: /health (Caused by "
        "NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f>: Failed to establish a new "
        "connection: [Errno 111] Connection refused'))"),
     "cannot reach OPA at http://opa:8181: Connection refused (is `opa run --server` running? check --opa-url)"),
    (requests.exceptions.ConnectionError(
        "HTTPConnectionPool(host='nohost.invalid', port=8181): Max retries exceeded with url: /health (Caused by "
        "NameResolutionError(\"<urllib3.connection.HTTPConnection object at 0x7f>: Failed to resolve 'nohost.invalid' "
        "([Errno -2] Name or service not known)\"))"),
     "cannot reach OPA at http://opa:8181: host name 'nohost.invalid' not found"),
    (requests.exceptions.SSLError(
        "HTTPSConnectionPool(host='opa', port=8443): Max retries exceeded with url: /health (Caused by "
        "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
        "self-signed certificate (_ssl.c:1006)')))"),
     "TLS connection to OPA at http://opa:8181 failed: certificate verify failed: self-signed certificate (give the server's CA certificate with --opa-ca)"),
    (requests.exceptions.ReadTimeout("read timed out"), "did not answer within 2.5 s: raise --timeout"),
    (requests.exceptions.ConnectTimeout("connect timed out"), "did not answer within 2.5 s: raise --timeout"),
    (requests.exceptions.JSONDecodeError("Expecting value", "<html>", 0), "not JSON"),
])
def test_describe_network(err, words):
    assert words in describe_network(err, "http://opa:8181", 2.5)


def test_compile_problems_point_at_the_module():
    err = _http_error(400, json.dumps({"code": "invalid_parameter", "message": "error(s) occurred", "errors": [
        {"code": "rego_unsafe_var_error", "message": "var x is unsafe",
         "location": {"file": "amisec/policies/rules/x.rego", "row": 12, "col": 3}},
    ]}).encode())
    problems = compile_problems(err, {"amisec/policies/rules/x.rego": "policies/rules/x.rego"})
    assert problems == ("policies/rules/x.rego:12:3: var x is unsafe",)


def test_scrub():
    assert scrub(f"Authorization: Bearer {SECRET}!", SECRET) == "Authorization: Bearer ***!"
    assert scrub("nothing", None) == "nothing"


class _StubClient:
    """Accepts a module only once the package it imports is there, as OPA's compiler does."""

    def __init__(self) -> None:
        self.uploaded: dict[str, str] = {}

    def update_policy_from_string(self, source: str, pid: str, rego_compat: bool = True) -> bool:
        assert rego_compat is False, "the client must never rewrite the policies"
        if "import data.amisec.lib" in source and not any("package amisec.lib" in s for s in self.uploaded.values()):
            raise _http_error(400, json.dumps({"message": "error(s) occurred while compiling module(s)", "errors": [
                {"message": "undefined function data.amisec.lib.violation", "location": {"file": pid, "row": 9, "col": 2}}]}).encode())
        self.uploaded[pid] = source
        return True


def test_upload_order_does_not_matter(catalog):
    modules = list(reversed(catalog.files))
    assert modules[-1].path == "policies/lib.rego"
    engine = OpaServerEngine(modules, "http://127.0.0.1:8181")
    stub = _StubClient()
    engine._upload(stub, [(policy_id(m.path), m) for m in modules])
    assert set(stub.uploaded) == {policy_id(m.path) for m in modules}


def test_upload_that_never_compiles_names_file_and_line(catalog):
    modules = [m for m in catalog.files if m.path != "policies/lib.rego"]
    engine = OpaServerEngine(modules, "http://127.0.0.1:8181")
    with pytest.raises(EngineError) as caught:
        engine._upload(_StubClient(), [(policy_id(m.path), m) for m in modules])
    assert caught.value.message == "OPA rejected the policies"
    assert f"{modules[0].path}:9:2: undefined function data.amisec.lib.violation" in caught.value.problems


def test_read_answer_without_result_after_an_upload():
    with pytest.raises(EngineError, match="was the OPA server restarted meanwhile"):
        read_answer({}, preloaded=False)


def test_two_files_that_would_share_a_policy_id(catalog):
    from amisec.policies.catalog import PolicyFile

    twins = [PolicyFile("acme/a b.rego", "package amisec.rules.a\n", False), PolicyFile("acme/a_b.rego", "package amisec.rules.b\n", False)]
    with pytest.raises(EngineError, match="would both be OPA policy amisec/acme/a_b.rego"):
        OpaServerEngine([*catalog.files, *twins], "http://127.0.0.1:8181")


def test_engine_arguments_are_checked(catalog, tmp_path):
    with pytest.raises(ValueError, match="positive"):
        OpaServerEngine(catalog.files, "http://127.0.0.1:8181", timeout=0)
    with pytest.raises(ValueError, match="https:// --opa-url only"):
        OpaServerEngine(catalog.files, "http://127.0.0.1:8181", ca_file=__file__)
    with pytest.raises(ValueError, match="is not a file"):
        OpaServerEngine(catalog.files, "https://127.0.0.1:8181", ca_file=str(tmp_path / "missing.pem"))
    with pytest.raises(EngineError, match="no policy modules"):
        OpaServerEngine([], "http://127.0.0.1:8181")


# -- the whole path against a fake server ------------------------------------------------------
def test_fake_server_wiring_gives_the_embedded_report(opa):
    embedded = run_cli()
    through_opa = run_cli("--engine", "opa", "--opa-url", opa.url)
    assert through_opa.exit_code == embedded.exit_code, through_opa.output
    assert report_without_run_facts(through_opa.output) == report_without_run_facts(embedded.output)
    assert json.loads(through_opa.output)["engine"] == {"name": "opa", "version": f"OPA {opa.version}"}
    assert sorted(opa.policies) == sorted(policy_id(p) for p in [f.path for f in load_catalog().files])
    methods = [(m, p.split("?")[0]) for m, p, _ in opa.requests]
    assert methods[:2] == [("GET", "/health"), ("GET", "/v1/policies")]
    assert methods[-1] == ("POST", "/v1/data/amisec/rules")


def test_engine_evaluates_like_embedded_and_reuses_the_upload(opa, catalog):
    from amisec.compiler import compile_file

    doc = compile_file(RIVERSIDE)
    engine = get_engine("opa", modules=catalog.files, url=opa.url, timeout=10)
    first = engine.evaluate(doc)
    uploads = sum(1 for m, _, _ in opa.requests if m == "PUT")
    assert engine.evaluate(doc) == first == get_engine("embedded", modules=catalog.files).evaluate(doc)
    assert sum(1 for m, _, _ in opa.requests if m == "PUT") == uploads == len(catalog.files)


def test_stale_amisec_policies_are_removed_and_others_kept(opa):
    opa.policies["amisec/policies/rules/renamed_away.rego"] = "package amisec.rules.gone\n"
    opa.policies["team/authz.rego"] = "package team.authz\n"
    result = run_cli("--engine", "opa", "--opa-url", opa.url)
    assert result.exit_code in (0, 1), result.output
    assert "amisec/policies/rules/renamed_away.rego" not in opa.policies
    assert "team/authz.rego" in opa.policies


def test_unreachable_server(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        result = run_cli("--engine", "opa", "--opa-url", f"http://127.0.0.1:{port}", "--timeout", "5")
    assert result.exit_code == 3
    assert f"cannot reach OPA at http://127.0.0.1:{port}" in result.output
    assert "is `opa run --server` running? check --opa-url" in result.output
    assert "Traceback" not in result.output


def test_missing_token(opa):
    opa.token = SECRET
    result = run_cli("--engine", "opa", "--opa-url", opa.url)
    assert result.exit_code == 3
    assert "OPA refused the request (HTTP 401" in result.output and "check --opa-token" in result.output


def test_wrong_token_is_never_printed(opa):
    opa.token = SECRET
    wrong = "wrong-" + SECRET
    result = run_cli("--engine", "opa", "--opa-url", opa.url, env={"AMISEC_OPA_TOKEN": wrong})
    assert result.exit_code == 3
    assert "check --opa-token" in result.output
    assert wrong not in result.output and SECRET not in result.output


def test_token_from_environment_is_sent_and_not_printed(opa):
    opa.token = SECRET
    result = run_cli("--engine", "opa", "--opa-url", opa.url, env={"AMISEC_OPA_TOKEN": SECRET})
    assert result.exit_code in (0, 1), result.output
    assert SECRET not in result.output
    assert all(h.get("Authorization") == f"Bearer {SECRET}" for _, _, h in opa.requests)


def test_token_on_the_command_line(opa):
    opa.token = SECRET
    result = run_cli("--engine", "opa", "--opa-url", opa.url, "--opa-token", SECRET)
    assert result.exit_code in (0, 1), result.output
    assert SECRET not in result.output


def test_token_that_cannot_be_a_header(opa):
    result = run_cli("--engine", "opa", "--opa-url", opa.url, env={"AMISEC_OPA_TOKEN": "first-half\nsecond-half"})
    assert result.exit_code == 3
    assert "token cannot be sent in an HTTP header" in result.output and "check --opa-token" in result.output
    assert "first-half" not in result.output and "second-half" not in result.output


def test_server_error_on_query(opa):
    opa.query_status = 500
    result = run_cli("--engine", "opa", "--opa-url", opa.url)
    assert result.exit_code == 3
    assert "failed (HTTP 500: eval_conflict_error: boom): see the OPA server's log" in result.output


def test_unhealthy_server(opa):
    opa.health_status = 503
    result = run_cli("--engine", "opa", "--opa-url", opa.url)
    assert result.exit_code == 3
    assert "HTTP 503" in result.output


def test_timeout(opa):
    opa.query_delay = 5
    result = run_cli("--engine", "opa", "--opa-url", opa.url, "--timeout", "0.5")
    assert result.exit_code == 3
    assert "did not answer within 0.5 s: raise --timeout" in result.output


def test_malformed_answer(opa):
    opa.query_body = b"<html>gateway</html>"
    result = run_cli("--engine", "opa", "--opa-url", opa.url)
    assert result.exit_code == 3
    assert "not JSON: check that --opa-url points at an OPA server" in result.output


def test_answer_of_the_wrong_shape(opa):
    opa.query_body = b'{"result": [1, 2, 3]}'
    result = run_cli("--engine", "opa", "--opa-url", opa.url)
    assert result.exit_code == 3
    assert "data.amisec.rules is a list" in result.output


def test_answer_missing_a_rule_is_not_a_pass(opa, catalog):
    """A partial answer (a family missing) must never become passes."""
    from amisec.compiler import compile_file

    full = get_engine("embedded", modules=catalog.files).evaluate(compile_file(RIVERSIDE))
    partial = {k: v for k, v in full.items() if k != "ownership"}
    opa.query_body = json.dumps({"result": partial}).encode()
    result = run_cli("--engine", "opa", "--opa-url", opa.url)
    assert result.exit_code == 3
    assert "produced no result" in result.output


def test_preloaded_without_policies(opa):
    opa.query_body = b'{"decision_id": "x"}'
    result = run_cli("--engine", "opa", "--opa-url", opa.url, "--opa-preloaded")
    assert result.exit_code == 3
    assert ("OPA has no amisec policies loaded: run without --opa-preloaded, or load the bundle from `amisec bundle`"
            in result.output)
    assert not [m for m, _, _ in opa.requests if m in ("PUT", "DELETE")]


def test_preloaded_bundle(opa, catalog):
    opa.bundle = (list(catalog.files), bundle_revision(catalog.files, standards_data()))
    result = run_cli("--engine", "opa", "--opa-url", opa.url, "--opa-preloaded")
    assert report_without_run_facts(result.output) == report_without_run_facts(run_cli().output)
    assert not [m for m, _, _ in opa.requests if m in ("PUT", "DELETE")]


def test_preloaded_bundle_of_another_policy_set(opa, catalog):
    opa.bundle = (list(catalog.files), "0" * 64)
    result = run_cli("--engine", "opa", "--opa-url", opa.url, "--opa-preloaded")
    assert result.exit_code == 3
    assert "OPA serves a different amisec policy set (bundle revision 0000" in result.output
    assert "load the bundle from `amisec bundle`" in result.output


def test_upload_to_a_server_that_serves_the_bundle(opa, catalog):
    opa.bundle = (list(catalog.files), "whatever")
    result = run_cli("--engine", "opa", "--opa-url", opa.url)
    assert result.exit_code == 3
    assert "OPA serves a bundle that owns the amisec policies" in result.output and "--opa-preloaded" in result.output


def test_redirect_is_not_followed(opa):
    opa.redirect_to = "http://127.0.0.1:1/elsewhere"
    result = run_cli("--engine", "opa", "--opa-url", opa.url)
    assert result.exit_code == 3
    assert "redirect (HTTP 307) to http://127.0.0.1:1/elsewhere" in result.output
    assert len(opa.requests) == 1


def test_rejected_policy_is_reported_at_its_line(opa, tmp_path):
    opa.compile_check = lambda pid: pid.endswith("broken.rego")
    (tmp_path / "broken.rego").write_text(
        "package amisec.rules.acme\n\nimport rego.v1\n\n"
        "# METADATA\n# title: Broken\n# description: Broken on purpose.\n# custom:\n#   id: ACME-NET-001\n"
        "#   principle: integrity\n#   severity: low\n#   section: \"3.1.1\"\n#   objective: x\n#   use_cases: []\n"
        "#   subject: devices\n#   evidence: \"{n}\"\n#   remediation: x\n"
        "broken := {\"subjects\": [], \"violations\": [i | some i in ]}\n"
    )
    result = run_cli("--engine", "opa", "--opa-url", opa.url, "--policy-dir", str(tmp_path))
    assert result.exit_code == 3
    assert "OPA rejected the policies" in result.output
    assert f"{tmp_path / 'broken.rego'}:18:" in result.output


# -- option checks (exit 2) ------------------------------------------------------------------
@pytest.mark.parametrize("args, words", [
    (["--engine", "opa"], "--engine opa needs --opa-url"),
    (["--engine", "opa", "--opa-url", "localhost:8181"], "http:// or https://"),
    (["--opa-url", "http://127.0.0.1:8181"], "--opa-url applies to --engine opa"),
    (["--timeout", "5"], "--timeout applies to --engine opa"),
    (["--engine", "opa-cli", "--opa-preloaded"], "--opa-preloaded applies to --engine opa only"),
    (["--engine", "opa", "--opa-url", "http://127.0.0.1:8181", "--opa-ca", __file__], "https:// --opa-url only"),
    (["--engine", "opa", "--opa-url", "http://127.0.0.1:8181", "--timeout", "0"], "not in the range x>0"),
    (["--engine", "nope"], "unknown engine 'nope'"),
])
def test_option_mistakes_exit_2(args, words):
    result = run_cli(*args)
    assert result.exit_code == 2, result.output
    assert words in result.output


def test_exported_token_does_not_disturb_the_embedded_engine():
    result = run_cli(env={"AMISEC_OPA_TOKEN": SECRET})
    assert result.exit_code in (0, 1), result.output


# -- TLS -------------------------------------------------------------------------------------
def test_tls_is_verified_by_default(self_signed):
    with FakeOpa(tls=self_signed) as opa:
        result = run_cli("--engine", "opa", "--opa-url", opa.url)
    assert result.exit_code == 3
    assert "TLS connection to OPA at" in result.output and "certificate verify failed" in result.output
    assert "--opa-ca" in result.output


def test_tls_with_the_servers_ca(self_signed):
    with FakeOpa(tls=self_signed) as opa:
        result = run_cli("--engine", "opa", "--opa-url", opa.url, "--opa-ca", self_signed[0])
    assert result.exit_code in (0, 1), result.output
    assert report_without_run_facts(result.output) == report_without_run_facts(run_cli().output)
