"""Token-endpoint grants, one module each, and ``registry``: one row per grant type.

A new grant is its handler module plus one row in ``registry.GRANTS``; the token endpoint,
registration and metadata follow from the row.
"""

__all__: list[str] = []
