"""The check, rules, explain and test commands: output and exit codes 0/1/2/3, never a traceback."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from amisec.cli import main
from policy_fixtures import CASES, write_deployment, write_policies


@pytest.fixture()
def policies(tmp_path: Path) -> Path:
    return write_policies(tmp_path / "policies")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env={"COLUMNS": "400"})  # no wrapping inside cells
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_failure_exits_1_and_names_the_element(tmp_path: Path, policies: Path) -> None:
    plan = write_deployment(tmp_path / "plan.ami")
    code, out, _ = run("check", str(plan), "--policy-dir", str(policies), "--rule", "ACME-T-001")
    assert code == 1
    assert "FAIL" in out and "ACME-T-001" in out and "meters (" in out and "plan.ami:7)" in out
    assert "meters runs unsigned firmware" in out
    assert "1 fail, 0 waived, 0 pass, 0 not applicable" in out


def test_fail_on_above_the_failure_severity_exits_0(tmp_path: Path, policies: Path) -> None:
    plan = write_deployment(tmp_path / "plan.ami")
    code, _, _ = run("check", str(plan), "--policy-dir", str(policies), "--rule", "acme", "--fail-on", "critical")
    assert code == 0


def test_passing_and_waived_rules_exit_0(tmp_path: Path, policies: Path) -> None:
    plan = write_deployment(tmp_path / "plan.ami", waiver=True)
    code, out, _ = run("check", str(plan), "--policy-dir", str(policies), "--rule", "acme", "-v")
    assert code == 0
    assert "WAIVED" in out and 'Replacement "in progress"' in out and "CISO" in out and "2099-01-01" in out
    assert "1 fleet(s) with devices" not in out and "2 fleet(s) with devices: meters, head_end" in out


def test_skip_rule_removes_it(tmp_path: Path, policies: Path) -> None:
    plan = write_deployment(tmp_path / "plan.ami")
    code, out, _ = run("check", str(plan), "--policy-dir", str(policies), "--rule", "acme", "--skip-rule", "ACME-T-001")
    assert code == 0 and "ACME-T-002" in out and "ACME-T-001" not in out


def test_json_output_is_json_with_positions(tmp_path: Path, policies: Path) -> None:
    plan = write_deployment(tmp_path / "plan.ami")
    code, out, _ = run("check", str(plan), "--policy-dir", str(policies), "--rule", "ACME-T-001", "--format", "json")
    assert code == 1
    (result,) = json.loads(out)["deployments"][0]["results"]
    (finding,) = result["findings"]
    assert finding["element"]["id"] == "meters" and finding["element"]["location"]["line"] == 7


def test_directory_argument_checks_every_ami_file(tmp_path: Path, policies: Path) -> None:
    folder = tmp_path / "plans"
    folder.mkdir()
    write_deployment(folder / "a.ami")
    write_deployment(folder / "b.ami", waiver=True)
    code, out, _ = run("check", str(folder), "--policy-dir", str(policies), "--rule", "ACME-T-001")
    assert code == 1 and "a.ami: 1 fail" in out and "b.ami: 0 fail, 1 waived" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "missing.ami"], "no such file"),
        (["check", "{plan}", "--rule", "NOPE-1"], "names no rule"),
        (["check", "{plan}", "--format", "xml"], "unknown format"),
        (["check", "{plan}", "--engine", "nope"], "unknown engine"),
        (["explain", "AMI-NOPE-001"], "unknown rule"),
    ],
)
def test_usage_mistakes_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    plan = str(write_deployment(tmp_path / "plan.ami"))
    code, _, err = run(*[a.replace("{plan}", plan) for a in args])
    assert code == 2 and message in err


def test_input_error_exits_2_with_position(tmp_path: Path) -> None:
    plan = tmp_path / "bad.ami"
    plan.write_text('deployment "x" {\n  utility acme\n}\nparty acme "A" : utilty\n', encoding="utf-8")
    code, _, err = run("check", str(plan))
    assert code == 2 and f"{plan}:4:" in err


def test_waiver_for_an_unknown_rule_exits_2_at_the_waiver(tmp_path: Path) -> None:
    plan = write_deployment(tmp_path / "plan.ami", waiver=True)  # ACME-T-001 is unknown without the policy dir
    code, _, err = run("check", str(plan))
    assert code == 2 and f"{plan}:10:1: error: waiver names unknown rule ACME-T-001" in err


def test_broken_policy_exits_3_with_position(tmp_path: Path, policies: Path) -> None:
    (policies / "acme.rego").write_text((policies / "acme.rego").read_text().replace('"violations": [lib', '"violations": [[lib', 1))
    plan = write_deployment(tmp_path / "plan.ami")
    code, _, err = run("check", str(plan), "--policy-dir", str(policies))
    assert code == 3 and "acme.rego:" in err and "Traceback" not in err


def test_broken_metadata_exits_3(tmp_path: Path, policies: Path) -> None:
    (policies / "acme.rego").write_text((policies / "acme.rego").read_text().replace("severity: high", "severity: huge"))
    code, _, err = run("rules", "--policy-dir", str(policies))
    assert code == 3 and "acme.rego:7: METADATA 'severity' is 'huge'" in err


def test_rules_lists_every_rule(policies: Path) -> None:
    code, out, _ = run("rules", "--policy-dir", str(policies))
    assert code == 0 and "ACME-T-001" in out and "ACME-T-002" in out and "Device firmware is signed" in out


def test_explain_shows_objective_fix_and_both_examples(policies: Path) -> None:
    code, out, _ = run("explain", "acme-t-001", "--policy-dir", str(policies))
    assert code == 0
    assert "section 3.1.4" in out and "To provide integrity of firmware." in out
    assert "Unsigned firmware can be replaced" in out and "Declare `firmware signed`" in out
    assert "Failing example — unsigned firmware fails (offending: meters)" in out
    assert "Passing example — signed firmware passes" in out


def test_test_command_reports_a_mismatching_case(tmp_path: Path, policies: Path) -> None:
    (policies / "acme_cases.yaml").write_text(CASES.replace("subjects: [meters]", "subjects: [head_end]"), encoding="utf-8")
    code, out, _ = run("test", str(policies))
    assert code == 1
    assert "FAIL  ACME-T-001: unsigned firmware fails" in out and "got [meters]" in out


def _program(*args: str, **options) -> "subprocess.CompletedProcess[str]":
    """`amisec` as installed: `run`, which ends the process without tearing it down."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", "from amisec.cli import run; run()", *args],
                          capture_output=True, text=True, timeout=120, **options)


def test_the_program_writes_every_output_before_it_exits(tmp_path: Path, policies: Path) -> None:
    plan = write_deployment(tmp_path / "plan.ami")
    saved = tmp_path / "report.json"
    done = _program("check", str(plan), "--policy-dir", str(policies), "-f", "json", "-f", f"sarif:{saved.with_suffix('.sarif')}",
                    "-f", f"json:{saved}")
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout) == json.loads(saved.read_text(encoding="utf-8"))  # stdout flushed, whole
    assert json.loads(saved.with_suffix(".sarif").read_text(encoding="utf-8"))["runs"]
    assert done.stderr == ""


def test_the_program_keeps_the_exit_codes_and_messages(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ami"
    bad.write_text('party metro "Metro" : utilty\n', encoding="utf-8")
    done = _program("check", str(bad))
    assert done.returncode == 2 and "bad.ami:1:" in done.stderr and "Traceback" not in done.stderr
    assert _program("--version").stdout.startswith("amisec")
    assert _program("no-such-command").returncode == 2


def test_the_program_stops_quietly_when_its_reader_goes_away(tmp_path: Path, policies: Path) -> None:
    import subprocess
    import sys

    plan = write_deployment(tmp_path / "plan.ami")
    with subprocess.Popen([sys.executable, "-c", "from amisec.cli import run; run()", "check", str(plan),
                           "--policy-dir", str(policies), "-f", "json"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        proc.stdout.close()  # like `| head -0`: gone before the report is written (start-up takes longer)
        _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err and b"Exception ignored" not in err, err
