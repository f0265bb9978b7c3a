"""The `amisec` command line: thin commands that call the library and pick a renderer."""
from __future__ import annotations

import functools
import json
import os
import sys
from typing import Any, Callable

import click

from . import __version__
from .engine.cli_options import opa_options
from .limits import limit_options

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_ENGINE = 0, 1, 2, 3


def _exit_code_for(err: BaseException) -> int | None:
    """The exit code of a library error, or None for an unexpected one (imports only on error)."""
    from .compiler import InputError
    from .engine.errors import EngineError
    from .report.load import ReportFormatError
    from .report.outputs import OutputError
    from .runner import UsageError

    if isinstance(err, InputError):
        click.echo(str(err), err=True)
        return EXIT_INPUT
    if isinstance(err, (UsageError, OutputError, ReportFormatError)):
        click.echo(f"error: {err}", err=True)
        return EXIT_INPUT
    if isinstance(err, EngineError):
        click.echo(f"engine error: {err}", err=True)
        return EXIT_ENGINE
    return None


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the library's errors into messages and exit codes: never a traceback for a user's mistake."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BrokenPipeError:
            sys.exit(EXIT_OK)
        except Exception as err:  # noqa: BLE001 — classified below; the unknown ones fail closed
            try:
                code = _exit_code_for(err)
            except Exception:  # noqa: BLE001 — a broken install must still not print a traceback
                code = None
            if code is None:
                if os.environ.get("AMISEC_DEBUG"):
                    raise
                click.echo(f"internal error: {type(err).__name__}: {err} (nothing was reported as passing; "
                           "set AMISEC_DEBUG=1 for the traceback and report it)", err=True)
                code = EXIT_ENGINE
            sys.exit(code)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="amisec")
def main() -> None:
    """Check AMI deployments against security policy derived from the AMI Security Architecture."""


@main.command("compile")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the JSON here instead of stdout.")
@limit_options
@handle_errors
def compile_cmd(file: str, output: str | None) -> None:
    """Print the OPA input FILE compiles to (validated against the input schema)."""
    from .compiler import compile_file

    text = json.dumps(compile_file(file), indent=2) + "\n"
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        click.echo(text, nl=False)


@main.command("fmt")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--check", is_flag=True, help="Print nothing; exit 1 if any file is not formatted.")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff instead of the formatted text.")
@click.option("-w", "--write", is_flag=True, help="Rewrite the files in place.")
@limit_options
@handle_errors
def fmt_cmd(files: tuple[str, ...], check: bool, show_diff: bool, write: bool) -> None:
    """Print FILES in canonical formatting (comments kept; same compiled input)."""
    import difflib

    from .compiler import InputError
    from .compiler.fmt import format_text
    from .report.outputs import write_atomic
    from .compiler.source import read

    changed, errors = [], []
    for path in files:
        try:
            source = read(path)
            formatted = format_text(source.text, path)
        except InputError as err:
            errors.append(err)
            continue
        if formatted != source.text:
            changed.append(path)
        if show_diff:
            click.echo("".join(difflib.unified_diff(
                source.text.splitlines(True), formatted.splitlines(True), f"a/{path}", f"b/{path}")), nl=False)
        elif write:
            if formatted != source.text:
                write_atomic(path, formatted)
        elif not check:
            click.echo(formatted, nl=False)
    for err in errors:
        click.echo(str(err), err=True)
    if errors:
        sys.exit(EXIT_INPUT)
    if check and changed:
        for path in changed:
            click.echo(f"{path}: not formatted (run: amisec fmt -w {path})", err=True)
        sys.exit(EXIT_FINDINGS)


SEVERITY_CHOICES = ("critical", "high", "medium", "low", "info")
_policy_dirs = click.option(
    "--policy", "--policy-dir", "policy_dirs", multiple=True, type=click.Path(exists=True, file_okay=False),
    help="Directory of custom policies (Rego with METADATA, *_cases.yaml) to add to the built-in ones; repeatable.",
)


@main.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-f", "--format", "formats", multiple=True, metavar="FORMAT[:PATH]",
              help="Output format, to standard output or to PATH; repeatable (default: table). "
                   "Formats: table, json, sarif, junit, markdown, html, oscal, lines.")
@click.option("--fail-on", type=click.Choice(SEVERITY_CHOICES), default="info", show_default=True,
              help="Exit 1 only for failures of this severity or worse.")
@click.option("--timestamp", metavar="WHEN",
              help="Date the report (and judge waiver expiry) as of WHEN: epoch seconds, a date or an ISO 8601 "
                   "date-time. Default: SOURCE_DATE_EPOCH when set, else now.")
@click.option("--rule", "include", multiple=True, metavar="ID|FAMILY", help="Check only these rules (id, family or family code); repeatable.")
@click.option("--skip-rule", "exclude", multiple=True, metavar="ID|FAMILY", help="Do not check these rules; repeatable.")
@click.option("-v", "--verbose", is_flag=True, help="Show the evidence of passing rules and how to fix failures.")
@click.option("--engine", default="embedded", show_default=True, help="Evaluation engine: embedded, opa (a server) or opa-cli (`opa eval`).")
@click.option("--baseline", type=click.Path(dir_okay=False), metavar="REPORT.json",
              help="Report only findings not in this saved JSON report (rule id and element id); say how many it suppressed.")
@click.option("--jobs", type=click.IntRange(min=1), metavar="N",
              help="Processes to share a large deployment's parsing and (embedded engine) evaluation between "
                   "[default: the CPUs available, at most 4; 1 works in this process alone]; fewer when "
                   "the memory available would not hold the engine's inputs side by side.")
@opa_options
@_policy_dirs
@limit_options
@handle_errors
def check_cmd(paths: tuple[str, ...], formats: tuple[str, ...], fail_on: str, timestamp: str | None,
              include: tuple[str, ...], exclude: tuple[str, ...], verbose: bool, engine: str, baseline: str | None,
              jobs: int | None, policy_dirs: tuple[str, ...], engine_options: dict[str, Any]) -> None:
    """Check deployment files (PATHS: .ami files or directories of them) against the policies."""
    from .report.outputs import parse_specs, parse_timestamp, stamp, write_outputs
    from .review.baseline import apply_baseline, load_baseline
    from .runner import run_check

    specs = parse_specs(formats)
    moment = parse_timestamp(timestamp) if timestamp else None
    known = load_baseline(baseline) if baseline else None
    report = run_check(paths, engine=engine, engine_options=engine_options, include=include, exclude=exclude,
                       policy_dirs=policy_dirs, today=moment.date() if moment else None, jobs=jobs)
    if known is not None:
        report = apply_baseline(report, known).report
        if not any(spec.format == "table" and spec.path is None for spec in specs):
            click.echo(report.baseline, err=True)  # the table shows it; other outputs may be files
    if moment is not None:
        report = stamp(report, moment)
    write_outputs(report, specs, click.get_text_stream("stdout"), verbose=verbose, fail_on=fail_on)
    sys.exit(report.exit_code(fail_on))


@main.command("convert")
@click.argument("report_file", type=click.Path(dir_okay=False))
@click.option("-f", "--format", "formats", multiple=True, required=True, metavar="FORMAT[:PATH]",
              help="Output format, to standard output or to PATH; repeatable.")
@click.option("--fail-on", type=click.Choice(SEVERITY_CHOICES), default="info", show_default=True,
              help="Severity the verdict of Markdown and HTML reports counts from.")
@click.option("-v", "--verbose", is_flag=True, help="Show the evidence of passing rules and how to fix failures (table).")
@handle_errors
def convert_cmd(report_file: str, formats: tuple[str, ...], fail_on: str, verbose: bool) -> None:
    """Render a saved JSON report (`check -f json:FILE`) in other formats, without checking again."""
    from .report.load import read_report
    from .report.outputs import parse_specs, write_outputs

    specs = parse_specs(formats)
    write_outputs(read_report(report_file), specs, click.get_text_stream("stdout"), verbose=verbose, fail_on=fail_on)


@main.command("rules")
@_policy_dirs
@handle_errors
def rules_cmd(policy_dirs: tuple[str, ...]) -> None:
    """List every rule: id, severity, principle, family and title."""
    from .policies.catalog import load_catalog
    from .policies.describe import rules_table

    click.echo(rules_table(load_catalog(policy_dirs).rules))


@main.command("explain")
@click.argument("rule_id")
@_policy_dirs
@handle_errors
def explain_cmd(rule_id: str, policy_dirs: tuple[str, ...]) -> None:
    """Explain RULE_ID: its objective, why it matters, how to fix it, with examples."""
    from .compiler.diagnostics import suggest
    from .policies.catalog import load_catalog
    from .policies.describe import explain
    from .runner import UsageError

    catalog = load_catalog(policy_dirs)
    rule = catalog.get(rule_id)
    if rule is None:
        close = suggest(rule_id.upper(), [r.id for r in catalog.rules])
        raise UsageError(f"unknown rule '{rule_id}'" + (f"; did you mean {close}?" if close else "") + " (`amisec rules` lists them)")
    click.echo(explain(rule, catalog.cases), nl=False)


@main.command("test")
@click.argument("policy_dir", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--rule", "include", multiple=True, metavar="ID|FAMILY", help="Run only the cases of these rules; repeatable.")
@click.option("-v", "--verbose", is_flag=True, help="List the passing cases of built-in rules too.")
@handle_errors
def test_cmd(policy_dir: str | None, include: tuple[str, ...], verbose: bool) -> None:
    """Run the test cases of the built-in rules and of the custom rules in POLICY_DIR.

    Every case of a custom rule is listed; built-in cases only when they fail (or with -v).
    Exit 1 when a case fails or a rule has no case that makes it fail (or pass).
    """
    from .casetest import render_run, run_cases
    from .policies.catalog import load_catalog
    from .runner import select_rules

    catalog = load_catalog([policy_dir] if policy_dir else [])
    run = run_cases(catalog, rules=select_rules(catalog.rules, include) if include else None)
    render_run(run, click.get_text_stream("stdout"), verbose, show={r.id for r in catalog.rules if not r.builtin})
    sys.exit(EXIT_OK if run.ok else EXIT_FINDINGS)


@main.command("diff")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--git", "revision", metavar="REV", help="Compare FILE at git revision REV with FILE as it is now.")
@click.option("-f", "--format", "fmt", type=click.Choice(("table", "markdown", "json")), default="table", show_default=True)
@click.option("--fail-on", type=click.Choice(SEVERITY_CHOICES), default="info", show_default=True,
              help="Exit 1 only for new failures of this severity or worse.")
@_policy_dirs
@limit_options
@handle_errors
def diff_cmd(files: tuple[str, ...], revision: str | None, fmt: str, fail_on: str, policy_dirs: tuple[str, ...]) -> None:
    """Compare two versions of a plan: `diff OLD NEW` or `diff --git REV FILE`.

    Lists the rules and controls that got worse or better, elements added and removed with their
    results, and waivers added, removed, expired or stale. Exit 1 when the new version has a
    failure the old one did not have.
    """
    from .review.diff_render import DIFF_FORMATS
    from .review.run import run_diff

    diff = run_diff(files, revision, policy_dirs)
    DIFF_FORMATS[fmt](diff, click.get_text_stream("stdout"), fail_on=fail_on)
    sys.exit(diff.exit_code(fail_on))


@main.command("graph")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-f", "--format", "fmt", type=click.Choice(("svg", "dot", "mermaid")), default="svg", show_default=True)
@click.option("--check", "with_results", is_flag=True, help="Colour domains, devices and links by the results of a check.")
@click.option("-o", "--output", default="-", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the picture here ('-', the default, for standard output).")
@click.option("--layout", type=click.Choice(("builtin", "dot", "auto")), default="builtin", show_default=True,
              help="SVG layout: built in (reproducible), or the system's Graphviz `dot` when present.")
@_policy_dirs
@handle_errors
def graph_cmd(file: str, fmt: str, with_results: bool, output: str, layout: str, policy_dirs: tuple[str, ...]) -> None:
    """Draw the topology of FILE (a plan, or a JSON report from `check -f json:FILE`): domains as
    clusters, devices, links; coloured by result with --check or from a report."""
    from .report.outputs import write_atomic
    from .review.graph import draw
    from .review.run import run_graph

    picture = draw(run_graph(file, with_results, policy_dirs), fmt, layout)
    if output == "-":
        click.echo(picture, nl=False)
    else:
        write_atomic(output, picture)


@main.command("init")
@click.argument("name", required=False, default="my_utility")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True),
              help="Where to write the plan (default: NAME.ami; '-' for standard output).")
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@handle_errors
def init_cmd(name: str, output: str | None, force: bool) -> None:
    """Write a commented starter plan for utility NAME (an id, e.g. north_valley) that passes `check`."""
    import os

    from .report.outputs import write_atomic
    from .review.starter import starter
    from .runner import UsageError

    text = starter(name)
    target = output or f"{name}.ami"
    if target == "-":
        click.echo(text, nl=False)
        return
    if os.path.exists(target) and not force:
        raise UsageError(f"{target} exists; choose another file with -o, or --force to replace it")
    write_atomic(target, text)
    click.echo(f"wrote {target}; next: amisec check {target}", err=True)


@main.command("bundle")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="The .tar.gz to write ('-' for stdout).")
@_policy_dirs
@handle_errors
def bundle_cmd(output: str, policy_dirs: tuple[str, ...]) -> None:
    """Write an OPA bundle (policies, standards data, .manifest) for `opa run --server --bundle`."""
    from .engine.bundle import build_bundle, standards_data
    from .policies.catalog import load_catalog
    from .runner import UsageError

    catalog = load_catalog(policy_dirs)
    payload, revision = build_bundle(catalog.files, standards_data())
    try:
        with click.open_file(output, "wb", atomic=output != "-") as fh:
            fh.write(payload)
    except OSError as err:
        raise UsageError(f"cannot write {output}: {err.strerror or err}") from None
    click.echo(f"{output}: OPA bundle revision {revision} ({len(catalog.files)} policy files, {len(catalog.rules)} rules)", err=True)


@main.command("trace")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--standard", "standards", multiple=True, metavar="KEY",
              help="Report these standards instead of the deployment's `standards` line; repeatable (`amisec standards` lists keys).")
@click.option("-f", "--format", "fmt", type=click.Choice(("table", "csv", "markdown", "json")), default="table", show_default=True)
@click.option("--engine", default="embedded", show_default=True, help="Evaluation engine: embedded, opa (a server) or opa-cli (`opa eval`).")
@opa_options
@_policy_dirs
@limit_options
@handle_errors
def trace_cmd(file: str, standards: tuple[str, ...], fmt: str, engine: str, policy_dirs: tuple[str, ...],
              engine_options: dict[str, Any]) -> None:
    """Print the traceability matrix of FILE: objective → rule → controls → elements, with statuses,
    and the gaps: objectives no rule checks (and why) and controls no rule covers.

    A report: exit 0 whatever the results (use `check` to gate on them).
    """
    from .report.trace_render import TRACE_FORMATS
    from .traceability import run_trace

    trace = run_trace([file], standards=standards, engine=engine, engine_options=engine_options, policy_dirs=policy_dirs)
    TRACE_FORMATS[fmt](trace, click.get_text_stream("stdout"))


@main.command("standards")
@click.argument("standard", required=False)
@click.option("-f", "--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@handle_errors
def standards_cmd(standard: str | None, fmt: str) -> None:
    """List the controls of STANDARD (a key such as nerc_cip; all standards when omitted) and the rules
    that cover each; controls not yet verified against the published standard are marked so."""
    from .report.standards_render import STANDARDS_FORMATS
    from .standards import standards_table
    from .traceability import check_standards

    keys = check_standards([standard]) if standard else (None,)
    STANDARDS_FORMATS[fmt]([row for key in keys for row in standards_table(key)], click.get_text_stream("stdout"))


def run() -> None:
    """The `amisec` program: `main`, then exit at once, without tearing down what the run built.

    A large check leaves the embedded engine's input (a node or more per value) and millions of
    Python objects behind; freeing them one by one at exit took 0.2 s of a 5 s check at 10k
    elements, and nothing needs it: every output file is closed by then, and the standard streams
    are flushed here. As the process ends after one run, the collector also freezes what bulk
    work leaves behind (`gc_pause`)."""
    from .gc_pause import freeze_after_bulk_work

    freeze_after_bulk_work()
    try:
        main()  # standalone mode: always ends in SystemExit
        code: Any = 0
    except SystemExit as done:
        code = done.code
    if isinstance(code, str):  # as `sys.exit("message")` does: the message, then status 1
        click.echo(code, err=True)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that went away, or a closed stream: nothing to flush into
            pass
    os._exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    run()
