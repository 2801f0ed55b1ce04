"""validate(): one parse, one pass over each check table, and a rejection that names its stage."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.conftest import VERIFIER, Harness, make_ctx
from tests.support.apis import ensure_api
from tokenpath.core import authorization_request as request_module
from tokenpath.core import authorize as authorize_module
from tokenpath.core.authorization_request import (
    ErrorTarget,
    Rejection,
    TrustedDraft,
    ValidatedRequest,
    validate,
)
from tokenpath.core.errors import InvalidRequest, InvalidScope, UnsupportedResponseType
from tokenpath.core.messages import ErrorPage, Redirect
from tokenpath.core.pkce import s256
from tokenpath.core.policy import Policy
from tokenpath.core.records import ResponseType
from tokenpath.core.response_modes import ResponseMode

pytestmark = pytest.mark.anyio
CB = "https://client.example/cb"
OTHER = "https://client.example/other"


async def _validate(harness: Harness, **params: str) -> ValidatedRequest | Rejection:
    return await validate(list(params.items()), harness.ctx)


async def test_success_carries_every_parsed_value(harness: Harness) -> None:
    client, _ = await harness.client()
    result = await _validate(
        harness,
        response_type="code",
        client_id=client.client_id,
        redirect_uri=CB,
        scope="openid notes:read",
        state="s",
        nonce="n",
        code_challenge=s256(VERIFIER),
        code_challenge_method="S256",
        prompt="consent",
    )
    assert result == ValidatedRequest(
        client=client,
        redirect_uri=CB,
        redirect_uri_in_request=True,
        response_type=ResponseType.CODE,
        response_mode=ResponseMode.QUERY,
        scopes=("openid", "notes:read"),
        scope_requested=True,
        state="s",
        code_challenge=s256(VERIFIER),
        code_challenge_method="S256",
        nonce="n",
        prompt=frozenset({"consent"}),
        apis=(await ensure_api(harness.ctx),),  # no resource: the client's default API
    )


async def test_defaults_are_contributed_when_parameters_are_absent(harness: Harness) -> None:
    client, _ = await harness.client(scopes="openid profile")
    result = await _validate(harness, response_type="code", client_id=client.client_id)
    assert isinstance(result, ValidatedRequest)
    assert result.redirect_uri == CB and not result.redirect_uri_in_request
    assert result.scopes == ("openid", "profile") and not result.scope_requested
    assert result.response_mode is ResponseMode.QUERY
    assert result.prompt == frozenset() and result.state is None


@pytest.mark.parametrize(
    "params",
    [
        {"response_type": "code"},  # no client_id
        {"client_id": "nope"},
        {"client_id": "CLIENT", "redirect_uri": "https://evil.example/cb"},
        {"client_id": "CLIENT", "redirect_uri": CB + "#f"},
    ],
)
async def test_untrusted_stage_rejection_names_no_target(
    harness: Harness, params: dict[str, str]
) -> None:
    client, _ = await harness.client()
    pairs = [(k, client.client_id if v == "CLIENT" else v) for k, v in params.items()]
    result = await validate([*pairs, ("state", "s1")], harness.ctx)
    assert isinstance(result, Rejection)
    assert result.stage == "untrusted" and result.reply_to is None
    assert isinstance(result.error, InvalidRequest)
    assert isinstance(authorize_module.reject(result, harness.ctx), ErrorPage)


async def test_duplicate_parameters_are_an_untrusted_rejection(harness: Harness) -> None:
    client, _ = await harness.client()
    pairs = [("client_id", client.client_id), ("state", "a"), ("state", "b")]
    result = await validate(pairs, harness.ctx)
    assert isinstance(result, Rejection) and result.stage == "untrusted"


@pytest.mark.parametrize(
    ("params", "error", "mode"),
    [
        ({"response_type": "code", "scope": "admin"}, InvalidScope, ResponseMode.QUERY),
        ({"response_type": "token"}, UnsupportedResponseType, ResponseMode.FRAGMENT),
        ({"response_type": "code token"}, UnsupportedResponseType, ResponseMode.FRAGMENT),
        (
            {"response_type": "code", "response_mode": "form_post", "prompt": "x"},
            InvalidRequest,
            ResponseMode.FORM_POST,
        ),
        ({"response_type": "code", "response_mode": "weird"}, InvalidRequest, ResponseMode.QUERY),
    ],
)
async def test_trusted_stage_rejection_names_uri_mode_and_state(
    harness: Harness, params: dict[str, str], error: type[Exception], mode: ResponseMode
) -> None:
    client, _ = await harness.client(redirect_uris=[CB, OTHER])
    result = await _validate(
        harness, client_id=client.client_id, redirect_uri=OTHER, state="s1", **params
    )
    assert isinstance(result, Rejection)
    assert result.stage == "trusted" and isinstance(result.error, error)
    assert result.reply_to == ErrorTarget(redirect_uri=OTHER, response_mode=mode, state="s1")


async def test_trusted_rejection_without_state_echoes_none(harness: Harness) -> None:
    client, _ = await harness.client()
    result = await _validate(harness, client_id=client.client_id, response_type="bogus")
    assert isinstance(result, Rejection) and result.reply_to is not None
    assert result.reply_to.state is None
    decision = authorize_module.reject(result, harness.ctx)
    assert isinstance(decision, Redirect) and "state=" not in decision.location


def test_rejection_names_a_target_exactly_when_trusted() -> None:
    target = ErrorTarget(redirect_uri=CB, response_mode=ResponseMode.QUERY, state=None)
    with pytest.raises(ValueError, match="trusted"):
        Rejection(error=InvalidRequest("x"), stage="trusted")
    with pytest.raises(ValueError, match="trusted"):
        Rejection(error=InvalidRequest("x"), stage="untrusted", reply_to=target)


def _counting(calls: dict[str, int], name: str, function: Callable[..., Any]) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[name] = calls.get(name, 0) + 1
        return function(*args, **kwargs)

    wrapper.__name__ = name
    return wrapper


async def test_each_check_and_each_parser_runs_once(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is computed twice: every row, and every parser a row calls, runs exactly once."""
    client, _ = await harness.client()
    calls: dict[str, int] = {}
    for table in ("UNTRUSTED_CHECKS", "TRUSTED_CHECKS"):
        rows = getattr(request_module, table)
        counted = tuple(_counting(calls, row.__name__, row) for row in rows)
        monkeypatch.setattr(request_module, table, counted)
    for name in ("parse_pairs", "parse_scope", "match_redirect_uri"):
        monkeypatch.setattr(
            request_module, name, _counting(calls, name, getattr(request_module, name))
        )
    challenge = request_module.pkce.check_challenge
    monkeypatch.setattr(
        request_module.pkce, "check_challenge", _counting(calls, "check_challenge", challenge)
    )
    validated = authorize_module.validate
    monkeypatch.setattr(authorize_module, "validate", _counting(calls, "validate", validated))

    await harness.authorize(
        None,
        response_type="code",
        client_id=client.client_id,
        redirect_uri=CB,
        scope="openid",
        code_challenge=s256(VERIFIER),
        code_challenge_method="S256",
    )
    rows = [*request_module.UNTRUSTED_CHECKS, *request_module.TRUSTED_CHECKS]
    assert len(rows) == 19
    expected = [r.__name__ for r in rows]
    expected += ["parse_pairs", "parse_scope", "match_redirect_uri", "check_challenge", "validate"]
    assert calls == dict.fromkeys(expected, 1)


async def test_a_new_row_decides_where_its_error_goes(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One function and one row: in the trusted table its error goes back to the client."""
    client, _ = await harness.client()

    def check_nonce(draft: TrustedDraft, policy: Policy) -> None:
        if "nonce" not in draft.params:
            raise InvalidRequest("nonce is required")

    trusted = (*request_module.TRUSTED_CHECKS, check_nonce)
    monkeypatch.setattr(request_module, "TRUSTED_CHECKS", trusted)
    result = await _validate(harness, response_type="code", client_id=client.client_id)
    assert isinstance(result, Rejection) and result.stage == "trusted"
    assert result.error.description == "nonce is required"


async def test_reading_a_value_before_its_check_is_a_table_bug(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = await harness.client()
    monkeypatch.setattr(
        request_module, "TRUSTED_CHECKS", (request_module.check_response_type_allowed,)
    )
    with pytest.raises(RuntimeError, match="response_type"):
        await _validate(harness, response_type="code", client_id=client.client_id)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pairs=st.lists(
        st.tuples(
            st.sampled_from(["response_type", "client_id", "redirect_uri", "scope", "state"]),
            st.sampled_from(["code", "token", "CLIENT", CB, OTHER, "https://evil.example/", ""]),
        ),
        max_size=6,
    )
)
async def test_validate_answers_a_request_or_a_rejection_never_a_response(
    pairs: Sequence[tuple[str, str]],
) -> None:
    """Property: only a trusted rejection names a target, and that target is registered."""
    harness = Harness(make_ctx(allow_implicit=True))
    client, _ = await harness.client(redirect_uris=[CB, OTHER])
    pairs = [(n, client.client_id if v == "CLIENT" else v) for n, v in pairs]
    result = await validate(pairs, harness.ctx)
    assert isinstance(result, ValidatedRequest | Rejection)
    if isinstance(result, Rejection) and result.reply_to is not None:
        assert result.reply_to.redirect_uri in {CB, OTHER}
