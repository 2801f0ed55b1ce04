"""Token-endpoint grants, one module each; ``core.token_endpoint`` dispatches on ``grant_type``."""

__all__: list[str] = []
