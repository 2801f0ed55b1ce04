"""``tokenpath advise``: flags for every question, prompts on a terminal, ``--json``."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.cli.conftest import run
from tokenpath.cli import advise as advise_module
from tokenpath.cli import main
from tokenpath.lab.advisor import QUESTIONS, Profile, advise


def test_every_question_has_its_flag() -> None:
    options = {o for p in main.commands["advise"].params for o in p.opts + p.secondary_opts}
    for question in QUESTIONS:
        assert {f"--{question.flag}", f"--no-{question.flag}"} <= options


def test_flags_give_the_same_answer_as_the_lab(runner: CliRunner) -> None:
    code, out = run(runner, "advise", "--browser", "--long-lived", "--json")
    assert code == 0
    assert json.loads(out) == advise(Profile(browser=True, long_lived=True)).to_json()


def test_text_output_names_the_flow_reasons_and_lab_run(runner: CliRunner) -> None:
    code, out = run(runner, "advise", "--native", "--no-legacy")
    assert code == 0
    assert out.startswith("Use: native")
    assert "RFC 8252 §8.5" in out and "/runs/new?flow=native" in out


def test_missing_flags_are_no_without_a_terminal(runner: CliRunner) -> None:
    code, out = run(runner, "advise", "--json")
    assert code == 0 and json.loads(out)["flow"] == advise(Profile()).flow
    assert "?" not in out.split("{", 1)[0]  # nothing was asked


def test_missing_flags_are_asked_on_a_terminal(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(advise_module, "_interactive", lambda: True)
    # asked in order, skipping --machine given as a flag: backend, browser, native, long, legacy
    result = runner.invoke(main, ["advise", "--no-machine", "--json"], input="n\ny\nn\ny\nn\n")
    assert result.exit_code == 0, result.output
    assert QUESTIONS[1].text in result.output and QUESTIONS[3].text not in result.output
    body = json.loads(result.stdout[result.stdout.index("{") :])
    assert body["flow"] == "code-pkce" and body["also"] == ["refresh"]
