"""The `amisec` command line: thin commands that call the library and pick a renderer."""
from __future__ import annotations

import functools
import json
import sys
from typing import Any, Callable

import click

from . import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_ENGINE = 0, 1, 2, 3


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the library's errors into messages and exit codes: never a traceback for a user's mistake."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .compiler import InputError

        try:
            return fn(*args, **kwargs)
        except InputError as err:
            click.echo(str(err), err=True)
            sys.exit(EXIT_INPUT)
        except BrokenPipeError:
            sys.exit(EXIT_OK)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="amisec")
def main() -> None:
    """Check AMI deployments against security policy derived from the AMI Security Architecture."""


@main.command("compile")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the JSON here instead of stdout.")
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
@handle_errors
def fmt_cmd(files: tuple[str, ...], check: bool, show_diff: bool, write: bool) -> None:
    """Print FILES in canonical formatting (comments kept; same compiled input)."""
    import difflib

    from .compiler import InputError
    from .compiler.fmt import format_text
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
                _write_atomic(path, formatted)
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


def _write_atomic(path: str, text: str) -> None:
    """Replace a file in one step, so a concurrent reader never sees half of it."""
    import os
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".amisec-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
