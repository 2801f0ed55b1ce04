"""``tokenpath advise``: which flow should my app use? (the lab's advisor, on the command line)

One flag per question of :data:`tokenpath.lab.advisor.QUESTIONS`; a question without its flag is
asked interactively when standard input is a terminal, and taken as "no" otherwise. The logic
is :func:`tokenpath.lab.advisor.advise`, imported when the command runs (nothing imports the lab
at module level: ``tests/test_layering.py``).
"""

from __future__ import annotations

import json
import sys

import click

from tokenpath.cli.base import Command

__all__ = ["advise"]


def _interactive() -> bool:
    return sys.stdin.isatty()


@click.command(cls=Command)
@click.option("--backend/--no-backend", default=None, help="A back end that can keep a secret.")
@click.option("--browser/--no-browser", default=None, help="Runs in a browser.")
@click.option("--native/--no-native", default=None, help="A native or command-line app.")
@click.option("--machine/--no-machine", default=None, help="Machine to machine, no user.")
@click.option("--long-lived/--no-long-lived", default=None, help="Needs long-lived access.")
@click.option("--legacy/--no-legacy", default=None, help="Held back by legacy constraints.")
@click.option("--json", "as_json", is_flag=True, help="Print the recommendation as JSON.")
def advise(as_json: bool, **answers: bool | None) -> None:
    """Recommend an OAuth flow for your app, with reasons and RFC sections."""
    from tokenpath.lab.advisor import QUESTIONS, Profile
    from tokenpath.lab.advisor import advise as recommend

    asking = _interactive()
    for question in QUESTIONS:
        if answers[question.field] is None:
            answers[question.field] = (
                click.confirm(question.text, default=False, err=True) if asking else False
            )
    chosen = recommend(Profile(**{k: bool(v) for k, v in answers.items()}))
    if as_json:
        click.echo(json.dumps(chosen.to_json(), indent=2))
        return
    click.echo(f"Use: {chosen.flow}  ({chosen.title})")
    if chosen.also:
        click.echo(f"Add: {', '.join(chosen.also)}")
    for reason in chosen.reasons:
        click.echo(f"  - {reason.text} [{reason.reference}]")
    for reason in chosen.avoid:
        click.echo(f"  x {reason.text} [{reason.reference}]")
    click.echo(f"Watch it in the lab (tokenpath demo): {chosen.lab_run}")
