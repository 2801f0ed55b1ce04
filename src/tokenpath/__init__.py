"""tokenpath: an OAuth 2.x / OpenID Connect authorization system you can read."""

__all__ = ["__version__"]

__version__ = "0.1.0"
