"""What an operator watches: log lines in one format with request ids, and Prometheus metrics.

Stdlib and ``prometheus_client`` only, plus the core's event vocabulary: the web layer records
into it, the runtime configures it, the management listener serves it.
"""

from tokenpath.observability.logs import configure_logging, current_request_id, request_scope

__all__ = ["configure_logging", "current_request_id", "request_scope"]
