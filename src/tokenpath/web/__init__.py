"""The authorization server's HTTP face: Starlette routes, pages, cookies and headers.

``create_app(settings)`` is the whole public surface; the core decides, this layer renders.
"""

from tokenpath.web.app import build_context, create_app, create_app_from_env

__all__ = ["build_context", "create_app", "create_app_from_env"]
