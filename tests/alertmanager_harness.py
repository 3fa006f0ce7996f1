"""Run the real Prometheus Alertmanager on loopback as a judge for differential tests.

Standard library + PyYAML only; nothing here imports agentaudit.

    with alertmanager(config) as am:
        am.post_alerts([{"labels": {...}, "annotations": {...}}])
        am.wait_notifications(2)
        am.notifications()   # what each webhook receiver got, in arrival order
        am.alerts()          # /api/v2/alerts with status.state, inhibitedBy, silencedBy

``config`` is an alertmanager.yml as a dict (or YAML text). Every receiver that has no
``*_configs`` of its own gets a webhook pointing at the harness's loopback HTTP server
(``send_resolved: true``), so the test sees exactly who Alertmanager notified. Durations may be
given as numbers (seconds) and are written as Alertmanager durations ("250ms", "2s").

The binary is Debian's ``prometheus-alertmanager`` (0.25.0 on bookworm); ``ALERTMANAGER_BIN``
overrides the path. Each instance runs with a temporary ``--storage.path``, clustering off
(``--cluster.listen-address=``) and free ports on 127.0.0.1, so several can run in parallel.
Timing facts measured with this harness are in tests/data/alertmanager/SEMANTICS.md.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from agentaudit.testing import free_port

BINARY_NAMES = ("prometheus-alertmanager", "alertmanager")
DURATION_KEYS = ("group_wait", "group_interval", "repeat_interval", "resolve_timeout")
RECEIVER_CONFIG_SUFFIX = "_configs"
READY_TIMEOUT = 15.0


class AlertmanagerError(RuntimeError):
    """Alertmanager refused the configuration, did not start, or an API call failed."""


def find_binary() -> str | None:
    """Path of the Alertmanager binary, or None (tests skip with a reason then)."""
    env = os.environ.get("ALERTMANAGER_BIN")
    if env:
        return env if Path(env).exists() else None
    for name in BINARY_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def binary_version(binary: str | None = None) -> str:
    """'0.25.0' for Debian's build (first line of --version)."""
    binary = binary or find_binary()
    if not binary:
        raise AlertmanagerError("no Alertmanager binary (apt-get install prometheus-alertmanager)")
    out = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
    )
    text = (out.stdout or out.stderr).split()
    return text[text.index("version") + 1].rstrip(",") if "version" in text else " ".join(text)


def duration(value: Any) -> str:
    """Seconds (int/float) -> an Alertmanager duration string; strings pass through.

    Alertmanager parses Prometheus durations: integer amounts with units ms, s, m, h, d, w, y
    (no fractions, no bare numbers), so 0.25 becomes "250ms".
    """
    if isinstance(value, str):
        return value
    ms = round(float(value) * 1000)
    if ms == 0:
        return "0s"
    if ms % 1000:
        return f"{ms}ms"
    return f"{ms // 1000}s"


def rfc3339(value: datetime | float | str | None) -> str | None:
    """datetime, epoch seconds or an RFC 3339 string -> RFC 3339 in UTC (None stays None)."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, datetime):
        value = datetime.fromtimestamp(float(value), UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _normalise_durations(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (duration(v) if k in DURATION_KEYS else _normalise_durations(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_normalise_durations(v) for v in node]
    return node


def _matcher_json(m: Any) -> dict[str, Any]:
    """A silence matcher from 'name="v"', 'name=~"re"', 'name!="v"', a tuple or a dict."""
    if isinstance(m, Mapping):
        out = {"name": m["name"], "value": m["value"]}
        out["isRegex"] = bool(m.get("isRegex", False))
        out["isEqual"] = bool(m.get("isEqual", True))
        return out
    if isinstance(m, tuple):
        name, op, value = m
    else:
        text = str(m).strip()
        for op in ("=~", "!~", "!=", "="):
            if op in text:
                name, value = text.split(op, 1)
                break
        else:
            raise ValueError(
                f"matcher {m!r}: expected name=value, name!=value, name=~re or name!~re"
            )
        name, value = name.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = json.loads(value)
    if op not in ("=", "!=", "=~", "!~"):
        raise ValueError(f"matcher {m!r}: unknown operator {op!r}")
    return {"name": name, "value": value, "isRegex": "~" in op, "isEqual": not op.startswith("!")}


class _WebhookSink:
    """Loopback HTTP server that records every webhook POST, one list for all receivers."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's method name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {"_raw": body.decode("utf-8", "replace")}
                with sink.cond:
                    sink.received.append(
                        {"path": self.path, "at": time.monotonic(), "payload": payload}
                    )
                    sink.cond.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, receiver: str) -> str:
        return f"http://127.0.0.1:{self.port}/{receiver}"

    def __enter__(self) -> _WebhookSink:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


class Alertmanager:
    """One running Alertmanager with a loopback webhook sink; use via ``alertmanager()``."""

    def __init__(
        self,
        config: Mapping[str, Any] | str,
        *,
        binary: str | None = None,
        log_level: str = "info",
        auto_receivers: bool = True,
    ) -> None:
        self.auto_receivers = auto_receivers
        self.binary = binary or find_binary()
        if not self.binary:
            raise AlertmanagerError(
                "no Alertmanager binary (apt-get install prometheus-alertmanager)"
            )
        self.raw_config = yaml.safe_load(config) if isinstance(config, str) else config
        self.log_level = log_level
        self.sink = _WebhookSink()
        self.port = 0
        self.base = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self.workdir: Path | None = None
        self.config: dict[str, Any] = {}
        self.started_at = 0.0

    # -- configuration -------------------------------------------------------------------
    def render_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The YAML actually written: durations normalised, webhook receivers filled in."""
        cfg = _normalise_durations(copy.deepcopy(dict(config)))
        receivers = cfg.setdefault("receivers", [])
        names = {r["name"] for r in receivers}
        # A receiver that a route names but the config does not declare: declare it
        # (auto_receivers=False keeps Alertmanager's 'undefined receiver' error).
        if self.auto_receivers:
            for name in sorted(_route_receivers(cfg.get("route") or {}) - names):
                receivers.append({"name": name})
        for r in receivers:
            if not any(k.endswith(RECEIVER_CONFIG_SUFFIX) for k in r):
                r["webhook_configs"] = [{"url": self.sink.url(r["name"]), "send_resolved": True}]
        return cfg

    @property
    def config_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "alertmanager.yml"

    @property
    def log_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "alertmanager.log"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> Alertmanager:
        self.sink.__enter__()
        self.workdir = Path(tempfile.mkdtemp(prefix="alertmanager-"))
        self.config = self.render_config(self.raw_config)
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        last_error = ""
        for _attempt in range(3):  # a free port can be taken between probe and bind
            self.port = free_port()
            self.base = f"http://127.0.0.1:{self.port}"
            cmd = [
                self.binary,
                f"--config.file={self.config_path}",
                f"--storage.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
                f"--log.level={self.log_level}",
            ]
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
                )
            self.started_at = time.monotonic()
            try:
                self._wait_ready()
                return self
            except AlertmanagerError as e:
                last_error = str(e)
                self._stop_process()
                if "address already in use" not in self.log():
                    break
        self.close()
        raise AlertmanagerError(last_error)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AlertmanagerError(
                    f"alertmanager exited with {self.proc.returncode}:\n{self.log()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(self.base + "/-/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        raise AlertmanagerError(
            f"alertmanager not ready in {READY_TIMEOUT}s:\n{self.log()[-3000:]}"
        )

    def _stop_process(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def close(self) -> None:
        self._stop_process()
        self.sink.__exit__()
        if self.workdir and not os.environ.get("ALERTMANAGER_KEEP"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def reload(self, config: Mapping[str, Any] | str) -> None:
        """Write a new configuration and POST /-/reload (Alertmanager answers 500 if invalid)."""
        self.raw_config = yaml.safe_load(config) if isinstance(config, str) else config
        self.config = self.render_config(self.raw_config)
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        self._request("POST", "/-/reload", None, raw=True)

    # -- API ------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: Any, *, raw: bool = False) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                text = r.read().decode()
        except urllib.error.HTTPError as e:
            raise AlertmanagerError(
                f"{method} {path}: HTTP {e.code}: {e.read().decode(errors='replace')}"
            ) from e
        if raw or not text:
            return text
        return json.loads(text)

    def post_alerts(self, alerts: Iterable[Mapping[str, Any]]) -> None:
        """POST /api/v2/alerts. Each alert: labels, annotations, startsAt, endsAt
        (datetime, epoch seconds or RFC 3339; omitted = Alertmanager's defaults: startsAt now,
        endsAt now + resolve_timeout). An endsAt in the past resolves the alert."""
        body = []
        for a in alerts:
            item: dict[str, Any] = {"labels": dict(a["labels"])}
            if a.get("annotations"):
                item["annotations"] = dict(a["annotations"])
            for key in ("startsAt", "endsAt"):
                if a.get(key) is not None:
                    item[key] = rfc3339(a[key])
            if a.get("generatorURL"):
                item["generatorURL"] = a["generatorURL"]
            body.append(item)
        self._request("POST", "/api/v2/alerts", body)

    def add_silence(
        self,
        matchers: Iterable[Any],
        starts: datetime | float | str | None = None,
        ends: datetime | float | str | None = None,
        *,
        created_by: str = "alertmanager_harness",
        comment: str = "test",
    ) -> str:
        """POST /api/v2/silences; returns the silence id. Matchers: 'name="v"', 'name=~"re"',
        'name!="v"', 'name!~"re"', (name, op, value) or API dicts. Default window: now..+1h."""
        now = datetime.now(UTC)
        body = {
            "matchers": [_matcher_json(m) for m in matchers],
            "startsAt": rfc3339(starts if starts is not None else now),
            "endsAt": rfc3339(ends if ends is not None else now + timedelta(hours=1)),
            "createdBy": created_by,
            "comment": comment,
        }
        return self._request("POST", "/api/v2/silences", body)["silenceID"]

    def expire_silence(self, silence_id: str) -> None:
        self._request("DELETE", f"/api/v2/silence/{silence_id}", None, raw=True)

    def silences(self) -> list[dict[str, Any]]:
        return self._request("GET", "/api/v2/silences", None)

    def alerts(self, **filters: bool) -> list[dict[str, Any]]:
        """GET /api/v2/alerts (active, silenced, inhibited, unprocessed all true by default):
        each alert has labels, status.state ('active'|'suppressed'|'unprocessed'),
        status.inhibitedBy and status.silencedBy (fingerprints / silence ids)."""
        query = "&".join(f"{k}={'true' if v else 'false'}" for k, v in filters.items())
        return self._request("GET", "/api/v2/alerts" + (f"?{query}" if query else ""), None)

    def alert_groups(self) -> list[dict[str, Any]]:
        return self._request("GET", "/api/v2/alerts/groups", None)

    def status(self) -> dict[str, Any]:
        return self._request("GET", "/api/v2/status", None)

    # -- what the receivers got -----------------------------------------------------------
    def notifications(self, receiver: str | None = None) -> list[dict[str, Any]]:
        """Every webhook POST so far, in arrival order: receiver, groupKey, status
        ('firing'|'resolved'), alerts (status, labels, annotations, startsAt, endsAt,
        fingerprint), groupLabels, truncatedAlerts, and ``at`` (seconds since start)."""
        with self.sink.cond:
            got = list(self.sink.received)
        out = []
        for item in got:
            p = item["payload"]
            name = item["path"].lstrip("/")
            if receiver is not None and name != receiver:
                continue
            out.append(
                {
                    "receiver": p.get("receiver", name),
                    "groupKey": p.get("groupKey"),
                    "status": p.get("status"),
                    "alerts": p.get("alerts", []),
                    "groupLabels": p.get("groupLabels", {}),
                    "truncatedAlerts": p.get("truncatedAlerts", 0),
                    "at": round(item["at"] - self.started_at, 3),
                }
            )
        return out

    def wait_notifications(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Block until at least ``count`` webhook POSTs arrived (or timeout); return them all."""
        deadline = time.monotonic() + timeout
        with self.sink.cond:
            while len(self.sink.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.sink.cond.wait(left)
        return self.notifications()

    def wait_quiet(self, quiet: float, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Block until no webhook POST arrived for ``quiet`` seconds, counted from this call
        or the last POST, whichever is later (or timeout); return them all."""
        called = time.monotonic()
        deadline = called + timeout
        while time.monotonic() < deadline:
            with self.sink.cond:
                last = self.sink.received[-1]["at"] if self.sink.received else called
            last = max(last, called)
            idle = time.monotonic() - last
            if idle >= quiet:
                break
            time.sleep(min(quiet - idle, max(0.0, deadline - time.monotonic())) + 0.01)
        return self.notifications()


def summarize(notes: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Notifications as {receiver: {groupKey: [{status, alerts: [(labels, status), ...]}]}}.

    The order across receivers and groups is not deterministic in Alertmanager; within one
    receiver and group key it is. Labels are sorted (key, value) tuples, alerts sorted, so two
    runs (or Alertmanager and agentaudit) compare with ==.
    """
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for n in notes:
        alerts = sorted(
            (tuple(sorted(a["labels"].items())), a["status"]) for a in n.get("alerts", [])
        )
        out.setdefault(n["receiver"], {}).setdefault(n["groupKey"], []).append(
            {"status": n["status"], "alerts": alerts}
        )
    return out


def _route_receivers(route: Mapping[str, Any]) -> set[str]:
    names = {route["receiver"]} if route.get("receiver") else set()
    for sub in route.get("routes") or []:
        names |= _route_receivers(sub)
    return names


def validate_config(
    config: Mapping[str, Any] | str, binary: str | None = None, *, auto_receivers: bool = False
) -> str | None:
    """Ask Alertmanager itself whether a config loads: None if it does, else its error line.

    Debian's package ships no amtool check-config, so this starts the binary and reads
    its log; a valid config becomes ready and is stopped at once.
    """
    am = Alertmanager(config, binary=binary, auto_receivers=auto_receivers)
    try:
        am.start()
    except AlertmanagerError as e:
        lines = [ln for ln in str(e).splitlines() if "err=" in ln or "level=error" in ln]
        return lines[-1] if lines else str(e)
    am.close()
    return None


@contextlib.contextmanager
def alertmanager(
    config: Mapping[str, Any] | str,
    *,
    binary: str | None = None,
    log_level: str = "info",
    auto_receivers: bool = True,
) -> Iterator[Alertmanager]:
    """Start Alertmanager with ``config`` on 127.0.0.1, yield it, stop it and clean up."""
    am = Alertmanager(config, binary=binary, log_level=log_level, auto_receivers=auto_receivers)
    am.start()
    try:
        yield am
    finally:
        am.close()
