"""`agentaudit serve`: OTLP/HTTP logs, metrics and traces from coding agents, stored.

- `codec`: bodies in (protobuf or JSON; gzip, deflate, zstd) and replies out;
- `ingest`: the ingestion path as a library (request bytes -> stored events + rejections),
  shared by the HTTP layer and tests; each record goes to the collector that declares it
  (`agentaudit.collectors.otlp`);
- `server`: the HTTP layer on uvicorn and starlette (the `otlp` extra: import it only
  where a listener is wanted).
"""

from types import ModuleType

from agentaudit.receivers.otlp.ingest import default_spool_dir

EXTRA_MISSING = "agentaudit serve needs the otlp extra: pip install 'agentaudit[otlp]'"

__all__ = ["EXTRA_MISSING", "default_spool_dir", "load_server"]


def load_server() -> ModuleType:
    """The server module, or ImportError with the one line naming the extra."""
    try:
        from agentaudit.receivers.otlp import server
    except ImportError as exc:
        raise ImportError(f"{EXTRA_MISSING} ({exc.name or exc} is missing)") from exc
    return server
