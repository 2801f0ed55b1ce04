"""Token-endpoint grants, one module each; ``core.token`` dispatches on ``grant_type``."""

__all__: list[str] = []
