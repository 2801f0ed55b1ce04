"""``tokenpath check``: what in this configuration is weaker than RFC 9700 asks.

Exit codes: 0 (nothing weak, or not ``--strict``), 1 with ``--strict`` when anything is weak,
2 for a configuration tokenpath refuses to load at all.
"""

from __future__ import annotations

import json

import click

from tokenpath.cli.base import Command
from tokenpath.deployment_check import audit
from tokenpath.runtime import load_settings

__all__ = ["check"]


@click.command(cls=Command)
@click.option("--strict", is_flag=True, help="Exit 1 when anything weakens the deployment.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as a JSON array.")
def check(strict: bool, as_json: bool) -> None:
    """Report every setting that weakens the deployment (reads settings and file modes only)."""
    findings = audit(load_settings())
    weak = [f for f in findings if f.severity == "weak"]
    if as_json:
        click.echo(json.dumps([f.as_dict() for f in findings], indent=2))
    elif not findings:
        click.echo("nothing weakens this deployment")
    else:
        for finding in findings:
            click.echo(f"{finding.severity:<7} {finding.setting}: {finding.message}")
        click.echo(f"{len(weak)} weak, {len(findings) - len(weak)} notice(s)")
    if strict and weak:
        raise SystemExit(1)
