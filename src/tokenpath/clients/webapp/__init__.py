"""The confidential web-server demo client (authorization code flow; tokens stay server-side)."""

from tokenpath.clients.webapp.app import COOKIE, WebappConfig, create_webapp

__all__ = ["COOKIE", "WebappConfig", "create_webapp"]
