"""What `watch` reads from: sources plug in by type name.

A source is anything that can bring new events into the store when asked:

- `watch_dirs()`: directories whose file-system changes should wake the loop (may be empty);
- `collect(store, changed, redactor)`: ingest what is new and return an `IngestReport`;
  `changed` is the set of changed paths the loop saw, or None on a timed pass (re-check all);
- `start()` / `stop()`: for sources that run their own thread (a receiver), or nothing;
- `lag(store)`: bytes not yet read, per file, for telemetry.

File tailing is the `files` type. Receivers (the hook receiver and OTLP/HTTP from issue 3)
and provider pulls register their own type with `register_source_type("otlp")(factory)`;
a receiver that spools to a file only needs its directory tailed (this is how the hook log
and the guard decision log are read). A pull source sets `interval_seconds` and is
collected on timed passes once that interval has elapsed.
"""

from __future__ import annotations

import fnmatch
import glob
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentaudit.enrich.secrets import Redactor
from agentaudit.ingest import IngestReport, expand_paths, ingest_paths
from agentaudit.store import Store

SourceFactory = Callable[[dict[str, Any]], "WatchSource"]
_SOURCE_TYPES: dict[str, SourceFactory] = {}


def register_source_type(name: str) -> Callable[[SourceFactory], SourceFactory]:
    def add(factory: SourceFactory) -> SourceFactory:
        _SOURCE_TYPES[name] = factory
        return factory

    return add


def build_source(spec: dict[str, Any]) -> WatchSource:
    kind = spec["type"]
    if kind not in _SOURCE_TYPES:
        raise ValueError(f"unknown watch source type {kind!r}; known: {', '.join(_SOURCE_TYPES)}")
    return _SOURCE_TYPES[kind](spec)


class WatchSource(ABC):
    name: str = "source"
    interval_seconds: float | None = None  # pull sources: collect at most this often

    def watch_dirs(self) -> list[Path]:
        return []

    def start(self) -> None:
        """Start a receiver's thread; file sources have nothing to start."""
        return None

    def stop(self) -> None:
        """Stop accepting input; what was accepted must still be collectable once."""
        return None

    def lag(self, store: Store) -> dict[str, int]:
        """Bytes written but not yet read, per file."""
        return {}

    @abstractmethod
    def collect(self, store: Store, changed: set[Path] | None, redactor: Redactor) -> IngestReport:
        """Ingest whatever is new; never raise on bad input (it is quarantined)."""


class FileTailSource(WatchSource):
    """Files, directories and globs, read from their checkpoints as they grow.

    Rotation and rewrites are the ingest checkpoints' job (device, inode, head hash, offset):
    a rotated file is a new file read from 0, a file rewritten in place is read again, and
    event ids keep both exactly-once.
    """

    def __init__(self, patterns: list[str | Path], name: str = "files") -> None:
        self.name = name
        self.patterns = [os.path.expanduser(str(p)) for p in patterns]
        self._last_full = 0.0

    def files(self) -> list[Path]:
        out: list[Path] = []
        for pattern in self.patterns:
            matches = glob.glob(pattern, recursive=True) if glob.has_magic(pattern) else [pattern]
            out += [p for p in expand_paths(sorted(matches)) if p.is_file()]
        return list(dict.fromkeys(out))

    def watch_dirs(self) -> list[Path]:
        dirs = []
        for pattern in self.patterns:
            root = Path(pattern.split("*", 1)[0].split("?", 1)[0].split("[", 1)[0])
            if not root.is_dir():
                root = root.parent
            while not root.exists() and root != root.parent:
                root = root.parent
            dirs.append(root)
        return list(dict.fromkeys(dirs))

    def owns(self, path: Path) -> bool:
        text = str(path)
        for pattern in self.patterns:
            if text == pattern or text.startswith(pattern.rstrip("/") + "/"):
                return True
            if glob.has_magic(pattern) and fnmatch.fnmatch(text, pattern):
                return True
        return False

    def collect(self, store: Store, changed: set[Path] | None, redactor: Redactor) -> IngestReport:
        if changed is None:
            files = self.files()
        else:
            files = [p for p in changed if self.owns(p) and p.is_file()]
        if not files:
            return IngestReport()
        return ingest_paths(store, files, redactor=redactor)

    def lag(self, store: Store) -> dict[str, int]:
        out = {}
        for path in self.files():
            saved = store.checkpoint(str(path))
            try:
                size = path.stat().st_size
            except OSError:
                continue
            out[str(path)] = max(0, size - (saved["byte_offset"] if saved else 0))
        return out


@register_source_type("files")
def _files(spec: dict[str, Any]) -> WatchSource:
    return FileTailSource(list(spec.get("paths") or []), name=spec.get("name", "files"))


class OtlpSpoolSource(FileTailSource):
    """`agentaudit serve`'s OTLP/HTTP receiver (logs, metrics, traces) inside watch, spooling.

    The receiver runs in this process (uvicorn on its own thread) and appends each request
    as one line to its spool directory (it never takes the store's lock), after answering
    what it will not store in `partial_success`; the directory is tailed like any other
    (collector `otlp.spool`), so a request is stored, detected and paged on the next pass.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        from agentaudit.receivers.otlp import default_spool_dir, load_server

        try:
            self.server_module = load_server()
        except ImportError as exc:
            raise ValueError(f"watch source otlp: {exc}") from exc
        self.spool = Path(os.path.expanduser(str(spec.get("spool") or default_spool_dir())))
        self.spool.mkdir(mode=0o700, parents=True, exist_ok=True)
        super().__init__([self.spool], name=spec.get("name", "otlp"))
        self.host = str(spec.get("host", "127.0.0.1"))
        self.port = int(spec.get("port", 4318))
        self.token = spec.get("token") or os.environ.get("AGENTAUDIT_OTLP_TOKEN")
        self.receiver: Any = None

    def start(self) -> None:
        self.receiver = self.server_module.OtlpReceiver(
            None, self.host, self.port, token=self.token, spool_dir=self.spool
        ).start()

    def stop(self) -> None:
        if self.receiver is not None:
            self.receiver.close()


@register_source_type("otlp")
def _otlp(spec: dict[str, Any]) -> WatchSource:
    return OtlpSpoolSource(spec)
