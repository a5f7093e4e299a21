"""The ``formcheck`` command: one module per command group, all on one Typer app (``formcheck.cli:main``)."""

from __future__ import annotations

from formcheck.cli import analyze, bench, evaluation, exercises, inspect, live, models, server  # noqa: F401  (registers)
from formcheck.cli.app import app
from formcheck.cli.report import print_summary as _print_summary

__all__ = ["_print_summary", "app", "main"]


def main() -> None:
    """Console script entry point."""
    app()
