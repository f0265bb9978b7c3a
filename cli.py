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


if __name__ == "__main__":
    main()
