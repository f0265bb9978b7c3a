"""Engine parity: every example deployment gives the same results on every available engine.

The embedded engine is the reference. With an `opa` binary on PATH, the same deployments are
checked through `opa eval` (--engine opa-cli), through a real `opa run --server` on 127.0.0.1
with the policies uploaded (--engine opa), and through a server that loaded the bundle from
`amisec bundle` (--engine opa --opa-preloaded); results must be identical: status, subjects,
findings with their messages, evidence and reasons. Without the binary these tests are skipped
(the fake-server tests in test_opa_engine.py check only the wiring, not parity).
"""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from amisec.engine.bundle import standards_data, write_bundle
from amisec.policies.catalog import load_catalog
from amisec.runner import run_check

DEPLOYMENTS = sorted((Path(__file__).resolve().parent.parent / "deployments").glob("*.ami"))
OPA = shutil.which("opa")
needs_opa = pytest.mark.skipif(OPA is None, reason="no opa binary on PATH")
_START_TIMEOUT = 20.0


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch):
    """A proxy configured in the environment must not intercept the local test servers."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


def comparable(report: Any) -> list[Any]:
    """What must not depend on the engine: per deployment, per rule, the verdict and its words."""
    return [
        (d.file, [
            (r.rule.id, r.status, r.evidence, r.reason,
             [(f.subject.collection, f.subject.id, f.subject.line, f.message,
               json.dumps(f.expected, sort_keys=True), json.dumps(f.actual, sort_keys=True), f.waived)
              for f in r.findings])
            for r in d.results
        ])
        for d in report.deployments
    ]


@pytest.fixture(scope="module")
def reference() -> dict[str, list[Any]]:
    return {str(p): comparable(run_check([str(p)])) for p in DEPLOYMENTS}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_opa(*extra: str) -> Iterator[str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [OPA, "run", "--server", "--addr", f"127.0.0.1:{port}", "--log-level", "error", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    probe = requests.Session()
    probe.trust_env = False  # no proxy from the environment for a loopback server
    try:
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"opa run exited with {process.returncode}: {process.stderr.read().decode()[-2000:]}")
            try:
                if probe.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"opa run did not become healthy within {_START_TIMEOUT:g} s")
            time.sleep(0.1)
        yield url
    finally:
        probe.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def opa_server() -> Iterator[str]:
    if OPA is None:
        pytest.skip("no opa binary on PATH")
    yield from _start_opa()


@pytest.fixture(scope="module")
def opa_bundle_server(tmp_path_factory) -> Iterator[str]:
    if OPA is None:
        pytest.skip("no opa binary on PATH")
    bundle = tmp_path_factory.mktemp("bundle") / "amisec-bundle.tar.gz"
    write_bundle(str(bundle), load_catalog().files, standards_data())
    yield from _start_opa("--bundle", str(bundle))


def test_there_are_example_deployments():
    assert len(DEPLOYMENTS) >= 2, "parity needs example deployments to compare"


@needs_opa
@pytest.mark.parametrize("path", DEPLOYMENTS, ids=lambda p: p.stem)
def test_opa_cli_parity(reference, path):
    report = run_check([str(path)], engine="opa-cli", engine_options={"timeout": 120})
    assert report.engine == "opa-cli"
    assert comparable(report) == reference[str(path)]


@needs_opa
@pytest.mark.parametrize("path", DEPLOYMENTS, ids=lambda p: p.stem)
def test_opa_server_parity(reference, opa_server, path):
    report = run_check([str(path)], engine="opa", engine_options={"url": opa_server, "timeout": 120})
    assert report.engine_version.startswith("OPA ")
    assert comparable(report) == reference[str(path)]


@needs_opa
@pytest.mark.parametrize("path", DEPLOYMENTS, ids=lambda p: p.stem)
def test_opa_bundle_server_parity(reference, opa_bundle_server, path):
    options = {"url": opa_bundle_server, "timeout": 120, "preloaded": True}
    report = run_check([str(path)], engine="opa", engine_options=options)
    assert comparable(report) == reference[str(path)]


@needs_opa
def test_bundle_data_is_served(opa_bundle_server):
    answer = requests.get(f"{opa_bundle_server}/v1/data/amisec/mapping", timeout=10).json()
    assert answer["result"] == standards_data()["amisec"]["mapping"]


@needs_opa
def test_policies_pass_opa_check_strict():
    """What the text lint in test_rego_lint.py approximates, by OPA itself."""
    paths = [p for p in (Path(__file__).resolve().parent.parent / "policies").rglob("*.rego")]
    done = subprocess.run([OPA, "check", "--strict", *map(str, paths)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
