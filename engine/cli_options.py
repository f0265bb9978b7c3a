"""Command-line options of the OPA engines, as one decorator for the commands that evaluate.

`@opa_options` adds `--opa-url`, `--opa-token` (or AMISEC_OPA_TOKEN), `--opa-ca`,
`--opa-preloaded` and `--timeout`, checks them against `--engine`, and hands the command one
`engine_options` argument: the keyword arguments for `get_engine`. A wrong combination is a
usage error (exit 2) before anything is evaluated.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import click
from click.core import ParameterSource

TOKEN_ENV = "AMISEC_OPA_TOKEN"
DEFAULT_TIMEOUT = 30.0
_SERVER_ONLY = ("opa_url", "opa_token", "opa_ca", "opa_preloaded")
_FLAGS = {"opa_url": "--opa-url", "opa_token": "--opa-token", "opa_ca": "--opa-ca",
          "opa_preloaded": "--opa-preloaded", "timeout": "--timeout"}

_OPTIONS = (
    click.option("--opa-url", metavar="URL",
                 help="OPA server for --engine opa, e.g. http://127.0.0.1:8181 (a path prefix is kept)."),
    click.option("--opa-token", metavar="TOKEN", envvar=TOKEN_ENV, show_envvar=True,
                 help="Bearer token for the OPA server; prefer the environment variable "
                      "(a command line is visible to other users)."),
    click.option("--opa-ca", metavar="FILE", type=click.Path(exists=True, dir_okay=False),
                 help="CA certificate (PEM) to verify an https:// OPA server with; verification is always on."),
    click.option("--opa-preloaded", is_flag=True,
                 help="The OPA server already serves the bundle from `amisec bundle`: upload nothing, check its revision."),
    click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_TIMEOUT, show_default=True,
                 metavar="SECONDS", help="Limit for each request to the OPA server, or for each `opa eval` run."),
)


def _given(ctx: click.Context, name: str) -> bool:
    """Whether the option was given on the command line; a token exported in the environment
    must not turn a run with another engine into a usage error."""
    return ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE


def engine_settings(engine: str, values: dict[str, Any], ctx: click.Context | None = None) -> dict[str, Any]:
    """The `get_engine` options for `engine` from the option values; click.UsageError when an
    option does not fit the engine or a needed one is missing."""
    ctx = ctx or click.get_current_context()
    if engine == "opa":
        if not values.get("opa_url"):
            raise click.UsageError("--engine opa needs --opa-url URL (e.g. http://127.0.0.1:8181)", ctx)
        from .opa_server import parse_url

        try:
            parse_url(values["opa_url"])
        except ValueError as err:
            raise click.BadParameter(str(err), ctx, param_hint="--opa-url") from None
        return {"url": values["opa_url"], "token": values.get("opa_token") or None, "ca_file": values.get("opa_ca"),
                "timeout": values["timeout"], "preloaded": bool(values.get("opa_preloaded"))}
    stray = [name for name in _SERVER_ONLY if _given(ctx, name)]
    if engine == "opa-cli":
        if stray:
            raise click.UsageError(f"{_FLAGS[stray[0]]} applies to --engine opa only", ctx)
        return {"timeout": values["timeout"]}
    stray += ["timeout"] if _given(ctx, "timeout") else []
    if stray:
        raise click.UsageError(
            f"{_FLAGS[stray[0]]} applies to --engine opa (or opa-cli for --timeout), not to --engine {engine}", ctx)
    return {}


def opa_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the OPA options to a command that has `--engine`; it receives `engine_options`."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in _FLAGS}
        kwargs["engine_options"] = engine_settings(kwargs.get("engine", "embedded"), values)
        return command(*args, **kwargs)

    wrapper.__click_params__ = list(getattr(command, "__click_params__", []))  # type: ignore[attr-defined]
    for option in reversed(_OPTIONS):
        wrapper = option(wrapper)
    return wrapper
