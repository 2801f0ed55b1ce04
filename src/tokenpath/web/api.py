"""The JSON endpoints: token, pushed requests, revocation, introspection, userinfo, keys and
discovery.

Thin like every handler (docs/architecture.md, "The web layer"): each reads a bounded form or
the ``Authorization`` header into a core message, calls the core, and renders the
:class:`~tokenpath.core.messages.JsonResponse` it decides. What this module adds is HTTP only:
CORS for the configured browser origins (``/token``, ``/par``, ``/revoke``, ``/userinfo``; never
``/introspect``, which browsers have no business calling), the client's network address
(trusted proxies only), the ``DPoP`` request headers as sent (RFC 9449 §4.1; the core refuses
more than one), and the public documents' ``Access-Control-Allow-Origin: *``. Browsers may send
``DPoP`` and read ``DPoP-Nonce`` across origins (RFC 9449 §8).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokenpath.core import authorization_server_metadata
from tokenpath.core.errors import InvalidRequest
from tokenpath.core.introspection import introspect
from tokenpath.core.messages import BackchannelRequest, JsonResponse
from tokenpath.core.metadata import openid_configuration
from tokenpath.core.par import push
from tokenpath.core.revocation import revoke
from tokenpath.core.revocation_feed import revocation_feed
from tokenpath.core.token_endpoint import token
from tokenpath.core.userinfo import UserinfoRequest, bearer_challenge, userinfo
from tokenpath.observability import metrics
from tokenpath.web.client_address import client_address, parse_networks
from tokenpath.web.endpoints import FORM_LIMIT, TOKEN_LIMIT, Runtime
from tokenpath.web.forms import read_form
from tokenpath.web.render import json_error, json_reply

__all__ = ["ApiEndpoints"]

CoreJson = Callable[..., Awaitable[JsonResponse]]


class ApiEndpoints:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.trusted_proxies = parse_networks(runtime.settings.trusted_proxies)

    async def token(self, request: Request) -> Response:
        return await self._json_endpoint(request, token, expose="DPoP-Nonce")

    async def revoke(self, request: Request) -> Response:
        return await self._json_endpoint(request, revoke)

    async def par(self, request: Request) -> Response:
        """RFC 9126 §2: pushed authorization requests (CORS as /token: public clients may push)."""
        return await self._json_endpoint(request, push, expose="DPoP-Nonce")

    async def introspect(self, request: Request) -> Response:
        return await self._json_endpoint(request, introspect, cors=False)

    async def revocations(self, request: Request) -> Response:
        """The revocation feed (``core/revocation_feed.py``): the query as pairs, HTTP Basic."""
        message = BackchannelRequest(
            form=tuple(request.query_params.multi_items()),
            authorization=request.headers.get("authorization"),
            address=client_address(request, self.trusted_proxies),
        )
        return json_reply(await revocation_feed(message, ctx=self.rt.context()))

    async def jwks(self, request: Request) -> Response:
        keys = await self.rt.context().signer.jwks()
        return JSONResponse(keys, headers={"Access-Control-Allow-Origin": "*"})

    async def metadata(self, request: Request) -> Response:
        body = authorization_server_metadata(self.rt.context().policy)
        return JSONResponse(body, headers={"Access-Control-Allow-Origin": "*"})

    async def openid_configuration(self, request: Request) -> Response:
        """OIDC Discovery 1.0 §4: public, so any origin may read it (like RFC 8414's)."""
        body = openid_configuration(self.rt.context().policy)
        return JSONResponse(body, headers={"Access-Control-Allow-Origin": "*"})

    async def userinfo(self, request: Request) -> Response:
        """OIDC Core §5.3, GET or POST; the core finds the token (RFC 6750 §2) and decides."""
        cors = self._cors(request)
        if cors:
            cors["Access-Control-Expose-Headers"] = "WWW-Authenticate"
        try:
            body = request.method == "POST" and "content-type" in request.headers
            message = UserinfoRequest(
                authorization=tuple(request.headers.getlist("authorization")),
                form=tuple(await read_form(request, limit=FORM_LIMIT) if body else ()),
                query_token="access_token" in request.query_params,
            )
        except InvalidRequest as error:
            return json_reply(bearer_challenge(error), tuple(cors.items()))
        reply = await userinfo(message, ctx=self.rt.context())
        return json_reply(reply, tuple(cors.items()))

    async def preflight(self, request: Request, methods: str = "POST") -> Response:
        """CORS preflight for browser clients calling /token, /revoke or /userinfo."""
        headers = self._cors(request)
        if headers:
            headers.update(
                {
                    "Access-Control-Allow-Methods": methods,
                    "Access-Control-Allow-Headers": "Authorization, Content-Type, DPoP",
                    "Access-Control-Max-Age": "600",
                }
            )
        return Response(status_code=204, headers=headers)

    async def _json_endpoint(
        self, request: Request, handler: CoreJson, *, cors: bool = True, expose: str = ""
    ) -> Response:
        extra = self._cors(request) if cors else {}
        if extra and expose:
            extra["Access-Control-Expose-Headers"] = expose
        try:
            pairs = await read_form(request, limit=TOKEN_LIMIT)
        except InvalidRequest as error:
            return json_error(error, headers=extra)
        message = BackchannelRequest(
            form=tuple(pairs),
            authorization=request.headers.get("authorization"),
            address=client_address(request, self.trusted_proxies),
            dpop=tuple(request.headers.getlist("dpop")),
        )
        reply = await handler(message, ctx=self.rt.context())
        if handler is token and reply.status == 200:
            metrics.grant_issued(dict(pairs).get("grant_type") or "")
        return json_reply(reply, tuple(extra.items()))

    def _cors(self, request: Request) -> dict[str, str]:
        origin = request.headers.get("origin")
        if origin is None or origin not in self.rt.cors_origins:
            return {}
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
