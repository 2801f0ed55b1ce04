"""The refusals of an operator's change, as values the CLI and the admin API both render.

Each carries the admin API's HTTP status and error code and the CLI's exit code, so the two
front ends cannot disagree (``docs/reference/cli.md``, ``docs/reference/admin-api.md``):

=============  ======  ==================  =========
refusal        status  ``error``           exit code
=============  ======  ==================  =========
NotFound       404     ``not_found``       1
Conflict       409     ``conflict``        1
Invalid        422     ``invalid_request`` 2
=============  ======  ==================  =========
"""

from __future__ import annotations

from typing import ClassVar

__all__ = ["Conflict", "Invalid", "LifecycleError", "NotFound"]


class LifecycleError(Exception):
    """A refused change; ``description`` is safe to show (it names ids, never a secret)."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "invalid_request"
    exit_code: ClassVar[int] = 2

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class NotFound(LifecycleError):
    """The client, user, grant or token named does not exist."""

    status = 404
    code = "not_found"
    exit_code = 1


class Conflict(LifecycleError):
    """The thing exists but its state refuses the change (a user name taken, no secret to
    rotate)."""

    status = 409
    code = "conflict"
    exit_code = 1


class Invalid(LifecycleError):
    """The input breaks a rule (a bad redirect URI, a short password, an overlap too long)."""

    status = 422
    code = "invalid_request"
    exit_code = 2
