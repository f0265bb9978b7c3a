"""The OPA CLI engine: output reading without a binary, then its subprocess path with a fake
`opa` executable (a wiring check; parity with a real `opa` is in tests/test_parity.py)."""
from __future__ import annotations

import json
import os
import re
import stat
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from amisec.cli import main
from amisec.engine import EngineError, get_engine
from amisec.engine.opa_cli import OpaCliEngine, eval_command, opa_version, read_eval_output
from amisec.policies.catalog import load_catalog

ROOT = Path(__file__).resolve().parent.parent
RIVERSIDE = str(ROOT / "deployments" / "riverside.ami")
FAKE = Path(__file__).resolve().parent / "opa_fake_cli.py"


@pytest.fixture
def fake_opa(tmp_path, monkeypatch):
    """An executable named `opa` first on PATH."""
    binary = tmp_path / "bin" / "opa"
    binary.parent.mkdir()
    binary.write_text(f"#!{sys.executable}\nimport runpy, sys\nsys.path.insert(0, {str(FAKE.parent)!r})\n"
                      f"runpy.run_path({str(FAKE)!r}, run_name='__main__')\n")
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{binary.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return str(binary)


def test_eval_command():
    assert eval_command("/usr/bin/opa", "b.tar.gz", "in.json") == [
        "/usr/bin/opa", "eval", "--bundle", "b.tar.gz", "--input", "in.json", "--format", "json", "data.amisec.rules"]
    assert eval_command("opa", "b", "i", metrics=True)[-2:] == ["--metrics", "data.amisec.rules"]


def test_read_eval_output():
    out = json.dumps({"result": [{"expressions": [{"value": {"ownership": {}}, "text": "data.amisec.rules"}]}]})
    assert read_eval_output(out, "", 0, {}) == {"ownership": {}}


@pytest.mark.parametrize("stdout, stderr, code, words", [
    ("{}", "", 0, "data.amisec.rules is undefined"),
    ("", "error: bundle not found", 1, "opa eval failed (exit status 1)"),
    ('{"result": [{"nothing": 1}]}', "", 0, "not a query result"),
    ('{"result": [{"expressions": [{"value": [1]}]}]}', "", 0, "is a list"),
])
def test_read_eval_output_failures(stdout, stderr, code, words):
    with pytest.raises(EngineError, match=re.escape(words)):
        read_eval_output(stdout, stderr, code, {})


def test_eval_errors_point_at_the_module():
    out = json.dumps({"errors": [{"message": "var x is unsafe",
                                  "location": {"file": "/tmp/a/amisec-bundle.tar.gz/amisec/rules/x/x.rego", "row": 7, "col": 2}}]})
    with pytest.raises(EngineError) as caught:
        read_eval_output(out, "", 1, {"amisec/rules/x/x.rego": "policies/rules/x.rego"})
    assert caught.value.problems == ("policies/rules/x.rego:7:2: var x is unsafe",)


def test_no_binary(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(EngineError, match="no opa binary on PATH"):
        OpaCliEngine(load_catalog().files)


def test_no_binary_via_cli(monkeypatch):
    monkeypatch.setenv("PATH", "")
    result = CliRunner().invoke(main, ["check", RIVERSIDE, "--engine", "opa-cli"])
    assert result.exit_code == 3
    assert "no opa binary on PATH" in result.output


def test_fake_binary_wiring(fake_opa):
    from amisec.compiler import compile_file

    files = load_catalog().files
    engine = get_engine("opa-cli", modules=files, timeout=60)
    assert engine.version == "OPA 1.99.0-fake"
    doc = compile_file(RIVERSIDE)
    assert engine.evaluate(doc) == get_engine("embedded", modules=files).evaluate(doc)
    bundle_dir = engine._dir
    engine.close()
    assert not os.path.exists(bundle_dir)


def test_fake_binary_via_cli(fake_opa):
    runner = CliRunner()
    embedded = json.loads(runner.invoke(main, ["check", RIVERSIDE, "-f", "json"]).output)
    result = runner.invoke(main, ["check", RIVERSIDE, "-f", "json", "--engine", "opa-cli", "--timeout", "60"])
    through_cli = json.loads(result.output)
    assert through_cli.pop("engine") == {"name": "opa-cli", "version": "OPA 1.99.0-fake"}
    for doc in (embedded, through_cli):
        doc.pop("timestamp")
    embedded.pop("engine")
    assert through_cli == embedded


@pytest.mark.parametrize("mode, words", [
    ("errors", "opa eval failed\n  policies/rules/ownership.rego:3:4: var x is unsafe"),
    ("crash", "panic: runtime error"),
    ("undefined", "data.amisec.rules is undefined"),
])
def test_fake_binary_failures(fake_opa, monkeypatch, mode, words):
    monkeypatch.setenv("FAKE_OPA_MODE", mode)
    result = CliRunner().invoke(main, ["check", RIVERSIDE, "--engine", "opa-cli", "--timeout", "60"])
    assert result.exit_code == 3
    assert words in result.output


def test_fake_binary_timeout(fake_opa, monkeypatch):
    monkeypatch.setenv("FAKE_OPA_MODE", "sleep")
    result = CliRunner().invoke(main, ["check", RIVERSIDE, "--engine", "opa-cli", "--timeout", "1"])
    assert result.exit_code == 3
    assert "opa eval did not finish within 1 s: raise --timeout" in result.output


def test_version_of_a_binary_that_says_nothing(tmp_path):
    quiet = tmp_path / "opa"
    quiet.write_text("#!/bin/sh\nexit 0\n")
    quiet.chmod(0o755)
    assert opa_version(str(quiet)) == "OPA (unknown version)"
    assert opa_version(str(tmp_path / "missing")) == "OPA (unknown version)"
