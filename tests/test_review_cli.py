"""`amisec diff`, `check --baseline`, `graph` and `init` end to end: output and exit codes."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from amisec.cli import main

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
EXAMPLES = sorted((ROOT / "deployments").glob("*.ami"))
OLD, NEW = str(DATA / "riverside_2_4.ami"), str(DATA / "riverside_2_5.ami")
RIVERSIDE = str(ROOT / "deployments" / "riverside.ami")
ENV = {"COLUMNS": "200", "SOURCE_DATE_EPOCH": "1768435200"}  # 2026-01-15: every test waiver is active


def run(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    if cwd is None:
        result = runner.invoke(main, list(args), env=ENV)
    else:
        with runner.isolated_filesystem(temp_dir=cwd):
            result = runner.invoke(main, list(args), env=ENV)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


# --- diff -------------------------------------------------------------------------------------

def test_diff_of_two_revisions_shows_worse_and_better_and_exits_1() -> None:
    code, out, _ = run("diff", OLD, NEW)
    assert code == 1
    assert "Worse (5 rule(s))" in out and "Better (1 rule(s))" in out
    assert "AMI-DIA-003" in out and "+ optical (new element, line 61)" in out and "- mgmt (fixed)" in out
    assert "+ added AMI-AVL-003 on head_end" in out and "~ stale AMI-ACC-001 on nms" in out
    assert "- device gas_modules" in out


def test_diff_that_only_fixes_exits_0() -> None:
    code, out, _ = run("diff", NEW, RIVERSIDE)
    assert code == 0
    assert "Worse" not in out and "Better (" in out and "no new failure" in out


def test_diff_fail_on_ignores_new_failures_below_it() -> None:
    assert run("diff", OLD, NEW, "--fail-on", "critical")[0] == 0


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_diff_formats(fmt: str) -> None:
    code, out, _ = run("diff", OLD, NEW, "-f", fmt)
    assert code == 1
    if fmt == "json":
        assert json.loads(out)["new_failures"] == 4
    else:
        assert out.startswith("## amisec diff: Riverside AMI Phase 2") and "**WORSE**" in out


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_diff_of_each_example_with_itself_exits_0(path: Path) -> None:
    code, out, _ = run("diff", str(path), str(path))
    assert code == 0 and "no change in results, elements or waivers" in out


@pytest.mark.parametrize(("args", "message"), [
    (["diff", OLD], "diff takes OLD NEW"),
    (["diff", OLD, "nope.ami"], "nope.ami: no such file"),
    (["diff", "--git", "HEAD", OLD, NEW], "--git REV FILE (one file)"),
])
def test_diff_usage_mistakes_exit_2(args: list[str], message: str) -> None:
    code, _, err = run(*args)
    assert code == 2 and message in err


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    folder = tmp_path / "plans"
    folder.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git[:1], "init", "-q"], cwd=folder, check=True)
    shutil.copy(OLD, folder / "plan.ami")
    subprocess.run([*git, "add", "plan.ami"], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-qm", "2.4"], cwd=folder, check=True)
    shutil.copy(NEW, folder / "plan.ami")
    return folder


def test_diff_git_compares_with_a_revision(repo: Path) -> None:
    code, out, _ = run("diff", "--git", "HEAD", str(repo / "plan.ami"), "-f", "json")
    data = json.loads(out)
    assert code == 1 and data["new_failures"] == 4
    assert data["old"]["label"].endswith("plan.ami at HEAD")


@pytest.mark.parametrize(("revision", "name", "message"), [
    ("no-such-rev", "plan.ami", "unknown git revision 'no-such-rev'"),
    ("HEAD", "other.ami", "other.ami does not exist at revision HEAD"),
])
def test_diff_git_errors_exit_2(repo: Path, revision: str, name: str, message: str) -> None:
    shutil.copy(NEW, repo / "other.ami")
    code, _, err = run("diff", "--git", revision, str(repo / name))
    assert code == 2 and message in err


def test_diff_git_outside_a_repository_exits_2(tmp_path: Path) -> None:
    plan = tmp_path / "plan.ami"
    shutil.copy(NEW, plan)
    code, _, err = run("diff", "--git", "HEAD", str(plan))
    assert code == 2 and "is not in a git repository" in err


def test_diff_git_old_revision_that_does_not_compile_exits_2(repo: Path) -> None:
    (repo / "plan.ami").write_text("deployment {\n", encoding="utf-8")
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qam", "broken"], cwd=repo, check=True)
    shutil.copy(NEW, repo / "plan.ami")
    code, _, err = run("diff", "--git", "HEAD", str(repo / "plan.ami"))
    assert code == 2 and "plan.ami@HEAD:1:" in err


# --- check --baseline -------------------------------------------------------------------------

def save_report(plan: str, path: Path) -> Path:
    code, _, _ = run("check", plan, "-f", f"json:{path}")
    assert code in (0, 1) and path.is_file()
    return path


def test_baseline_of_the_same_plan_suppresses_every_failure(tmp_path: Path) -> None:
    baseline = save_report(NEW, tmp_path / "baseline.json")
    code, out, err = run("check", NEW, "--baseline", str(baseline), "-f", "json")
    assert code == 0
    assert "6 known finding(s) suppressed (6 rule(s) no longer fail because of it)" in err
    data = json.loads(out)
    assert data["summary"]["fail"] == 0
    assert data["baseline"] == f"baseline {baseline}: 6 known finding(s) suppressed (6 rule(s) no longer fail because of it)"
    schema = json.loads((Path(__file__).resolve().parent.parent / "report" / "report.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)
    baselined = [r for r in data["deployments"][0]["results"] if "accepted by the baseline" in r["reason"]]
    assert len(baselined) == 6 and all(r["status"] == "waived" and not r["findings"] for r in baselined)


def test_baseline_reports_only_new_findings(tmp_path: Path) -> None:
    baseline = save_report(OLD, tmp_path / "baseline.json")
    plan = tmp_path / "plan.ami"  # 2.5 with mgmt still unencrypted, as in 2.4
    plan.write_text(Path(NEW).read_text(encoding="utf-8").replace(
        "link mgmt : nms -> collectors { medium cellular; encryption tls_1_3;", "link mgmt : nms -> collectors { medium cellular; encryption none;"),
        encoding="utf-8")
    code, out, err = run("check", str(plan), "--baseline", str(baseline), "-f", "json")
    assert code == 1
    assert "3 known finding(s) suppressed (2 rule(s) no longer fail because of it)" in err
    results = json.loads(out)["deployments"][0]["results"]
    reported = sorted(f"{r['rule']['id']} {f['element']['id']}" for r in results for f in r["findings"] if not f["waived"])
    assert reported == ["AMI-AVL-002 head_end", "AMI-DIA-001 optical", "AMI-DIA-002 optical", "AMI-DIA-003 optical"]
    dia3 = next(r for r in results if r["rule"]["id"] == "AMI-DIA-003")
    assert dia3["status"] == "fail" and dia3["reason"].endswith("1 finding(s) accepted by the baseline baseline.json")


def test_baseline_of_another_deployment_suppresses_nothing(tmp_path: Path) -> None:
    baseline = save_report(str(ROOT / "deployments" / "summit_power.ami"), tmp_path / "baseline.json")
    code, out, _ = run("check", NEW, "--baseline", str(baseline))
    assert code == 1
    assert "0 known finding(s) suppressed; no baseline for" in out  # the table carries the baseline line


@pytest.mark.parametrize("content", ["not json", '{"tool": {"name": "other"}}'])
def test_a_baseline_that_is_not_a_report_exits_2(tmp_path: Path, content: str) -> None:
    bad = tmp_path / "baseline.json"
    bad.write_text(content, encoding="utf-8")
    code, _, err = run("check", NEW, "--baseline", str(bad))
    assert code == 2 and "baseline.json" in err


# --- graph ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("fmt", ["svg", "dot", "mermaid"])
def test_graph_of_each_example(path: Path, fmt: str) -> None:
    code, out, _ = run("graph", str(path), "-f", fmt)
    assert code == 0
    first = {"svg": "<svg ", "dot": "digraph amisec {", "mermaid": "flowchart LR"}[fmt]
    assert out.startswith(first)
    assert "meters" in out


def test_graph_check_colours_by_result(tmp_path: Path) -> None:
    target = tmp_path / "plan.svg"
    code, out, _ = run("graph", NEW, "--check", "-o", str(target))
    svg = target.read_text(encoding="utf-8")
    assert code == 0 and out == ""
    assert '<g class="link fail" data-id="optical">' in svg and '<g class="device pass" data-id="meters">' in svg
    plain = run("graph", NEW)[1]
    assert 'class="link fail"' not in plain and '<g class="device not_applicable" data-id="meters">' in plain


def test_graph_of_a_saved_report_matches_graph_check(tmp_path: Path) -> None:
    report = save_report(NEW, tmp_path / "report.json")
    assert run("graph", str(report), "-f", "dot")[1] == run("graph", NEW, "--check", "-f", "dot")[1]


@pytest.mark.parametrize(("args", "code", "message"), [
    (["graph", "nope.ami"], 2, "nope.ami: no such file"),
    (["graph", str(DATA / "riverside_2_5.ami"), "-f", "png"], 2, "Invalid value"),
])
def test_graph_mistakes(args: list[str], code: int, message: str) -> None:
    got, _, err = run(*args)
    assert got == code and message in err


def test_graph_of_a_broken_plan_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ami"
    broken.write_text("device x : meter in nowhere\n", encoding="utf-8")
    code, _, err = run("graph", str(broken))
    assert code == 2 and "broken.ami:1:" in err


# --- init -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [None, "north_valley"])
def test_init_writes_a_plan_that_passes_check(tmp_path: Path, name: str | None) -> None:
    args = ["init"] + ([name] if name else [])
    code, _, err = run(*args, cwd=tmp_path)
    expected = f"{name or 'my_utility'}.ami"
    assert code == 0 and f"wrote {expected}" in err
    plan = next(tmp_path.rglob(expected))
    text = plan.read_text(encoding="utf-8")
    assert "__" not in text and "#" in text
    if name:
        assert 'party north_valley "North Valley" : utility' in text
    code, out, _ = run("check", str(plan), "-f", "json")
    assert code == 0 and json.loads(out)["summary"]["fail"] == 0
    assert run("fmt", "--check", str(plan))[0] == 0


def test_init_refuses_to_overwrite_and_prints_to_stdout(tmp_path: Path) -> None:
    plan = tmp_path / "acme.ami"
    plan.write_text("keep me\n", encoding="utf-8")
    code, _, err = run("init", "acme", "-o", str(plan))
    assert code == 2 and "exists" in err and plan.read_text(encoding="utf-8") == "keep me\n"
    assert run("init", "acme", "-o", str(plan), "--force")[0] == 0 and "party acme" in plan.read_text(encoding="utf-8")
    code, out, _ = run("init", "acme", "-o", "-")
    assert code == 0 and out.startswith("# Acme")


@pytest.mark.parametrize(("name", "message"), [("Acme Power", "is not an id"), ("meters", "already an id")])
def test_init_bad_names_exit_2(name: str, message: str) -> None:
    code, _, err = run("init", name, "-o", "-")
    assert code == 2 and message in err
