"""Demo clients, each small enough to read in one sitting.

* ``webapp`` — a confidential web-server app (authorization code; the browser never holds a token)
* ``spa`` — a browser app with no server of its own (code + PKCE, or implicit)
* ``native`` — a command-line app (code + PKCE with a loopback redirect, RFC 8252)
"""

__all__: list[str] = []
