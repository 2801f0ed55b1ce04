"""The confidential web-server demo client (authorization code flow; tokens stay server-side)."""

from tokenpath.clients.webapp.app import COOKIE, create_webapp
from tokenpath.clients.webapp.config import WebappConfig

__all__ = ["COOKIE", "WebappConfig", "create_webapp"]
