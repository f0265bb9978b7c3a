"""Safety: YAML is loaded safely, nothing a user writes is executed or interpreted, report paths are
relative to the working directory, the OPA token never reaches output, reports or logs, and TLS
to the OPA server stays verified whatever the environment says."""
from __future__ import annotations

import json
import logging
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from amisec.cli import main
from opa_fake import FakeOpa

ROOT = Path(__file__).resolve().parent.parent
RIVERSIDE = ROOT / "deployments" / "riverside.ami"
ACME = ROOT / "tests" / "data" / "acme_rules"
SECRET = "tok-7f3c9e1d-never-shown"
FORMATS = ("json", "html", "markdown", "sarif", "junit", "oscal", "table", "lines")


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


# --- YAML ---------------------------------------------------------------------------------------
def _payload(marker: Path) -> str:
    return f'!!python/object/apply:os.system ["touch {marker}"]'


def test_a_python_tag_in_a_cases_file_is_refused_not_run(tmp_path: Path) -> None:
    folder, marker = tmp_path / "policies", tmp_path / "ran"
    shutil.copytree(ACME, folder)
    cases = folder / "acme_network_cases.yaml"
    cases.write_text(cases.read_text(encoding="utf-8").replace(
        "- name: collectors with a hot standby pass", f"- name: {_payload(marker)}"), encoding="utf-8")
    code, _, err = run("test", str(folder))
    assert code == 3
    assert f"{cases}:2: not valid YAML: could not determine a constructor for the tag " \
           "'tag:yaml.org,2002:python/object/apply:os.system'" in err
    assert not marker.exists()


def test_a_python_tag_in_rule_metadata_is_refused_not_run(tmp_path: Path) -> None:
    folder, marker = tmp_path / "policies", tmp_path / "ran"
    folder.mkdir()
    rego = (ACME / "acme_network.rego").read_text(encoding="utf-8")
    (folder / "acme_network.rego").write_text(rego.replace("#   id: ACME-NET-001", f"#   id: {_payload(marker)}"),
                                               encoding="utf-8")
    code, _, err = run("rules", "--policy", str(folder))
    assert code == 3
    assert "acme_network.rego:13: METADATA is not valid YAML: could not determine a constructor" in err
    assert not marker.exists()


# --- user text is data --------------------------------------------------------------------------
NAME = '<script>alert(1)</script> $(touch pwned) {0} %s %n \\" } ]]> --><!-- x'
REFERENCE = '`touch pwned2`; {__import__(\\"os\\").system(\\"id\\")} ${HOME} \\\\x00'


def test_strings_are_data_never_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = RIVERSIDE.read_text(encoding="utf-8")
    text = text.replace('deployment "Riverside AMI Phase 2"', f'deployment "{NAME}"')
    text = text.replace('reference "MSA-2024-17"', f'reference "{REFERENCE}"')
    plan = tmp_path / "evil.ami"
    plan.write_text(text, encoding="utf-8")
    code, _, err = run("check", str(plan), *[f for fmt in FORMATS for f in ("-f", f"{fmt}:out/r.{fmt}")])
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.ami", "out"]  # no `touch` ran
    report = json.loads((tmp_path / "out" / "r.json").read_text(encoding="utf-8"))
    assert report["deployments"][0]["name"] == NAME.replace('\\"', '"')
    html = (tmp_path / "out" / "r.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    ET.parse(tmp_path / "out" / "r.junit")
    for fmt in ("sarif", "oscal"):
        json.loads((tmp_path / "out" / f"r.{fmt}").read_text(encoding="utf-8"))
    code, out, _ = run("compile", str(plan))
    agreements = {a["id"]: a for a in json.loads(out)["agreements"]}
    assert agreements["msa_2024"]["reference"] == '`touch pwned2`; {__import__("os").system("id")} ${HOME} \\x00'


def test_report_paths_are_relative_to_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work, plans = tmp_path / "work", tmp_path / "plans"
    work.mkdir()
    plans.mkdir()
    shutil.copy(RIVERSIDE, plans / "riverside.ami")
    monkeypatch.chdir(work)
    absolute = tmp_path / "elsewhere" / "r.sarif"
    code, _, err = run("check", str(plans / "riverside.ami"), "-f", "json:sub/r.json", "-f", f"sarif:{absolute}")
    assert code == 0, err
    assert (work / "sub" / "r.json").is_file() and absolute.is_file()
    assert sorted(p.name for p in plans.iterdir()) == ["riverside.ami"]


# --- the OPA server -------------------------------------------------------------------------------
def test_the_token_never_reaches_output_reports_or_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    outputs = [f for fmt in FORMATS if fmt != "table" for f in ("-f", f"{fmt}:{tmp_path / ('r.' + fmt)}")]
    with FakeOpa(lifetime=120) as opa:
        opa.token = SECRET
        ok = run("check", str(RIVERSIDE), "--engine", "opa", "--opa-url", opa.url, "-v", *outputs,
                 env={"AMISEC_OPA_TOKEN": SECRET, "AMISEC_DEBUG": "1"})
        wrong = run("check", str(RIVERSIDE), "--engine", "opa", "--opa-url", opa.url, "--opa-token", SECRET + "-old",
                    env={"AMISEC_DEBUG": "1"})
    assert ok[0] == 0, ok[2]
    assert wrong[0] == 3 and "check --opa-token" in wrong[2]
    written = "".join(p.read_text(encoding="utf-8") for p in tmp_path.iterdir())
    assert len(written) > 10_000
    for text in (*ok[1:], *wrong[1:], caplog.text, written):
        assert SECRET not in text


def test_tls_stays_verified_when_the_environment_says_otherwise(self_signed: tuple[str, str]) -> None:
    env = {"CURL_CA_BUNDLE": "", "REQUESTS_CA_BUNDLE": "", "PYTHONHTTPSVERIFY": "0", "SSL_CERT_FILE": ""}
    with FakeOpa(tls=self_signed) as opa:
        code, out, err = run("check", str(RIVERSIDE), "--engine", "opa", "--opa-url", opa.url, env=env)
        assert not opa.requests  # the handshake failed: no request reached the server
    assert (code, out) == (3, "")
    assert "certificate verify failed" in err and "--opa-ca" in err
