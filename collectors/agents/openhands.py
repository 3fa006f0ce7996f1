"""OpenHands (V0) trajectories: a JSON array of events, or one event per file.

An event has `action` + `args` or `observation` + `extras`; an observation's `cause` is the id
of the action it answers. Each action becomes one event carrying its observation's outcome
(`extras.metadata.exit_code`; -1 means still running or timed out, so status unknown).
Observations answering nothing (agent state changes) are kept as `other` events.
Trajectory files are written whole, so they are read whole (stable ids make re-reads free).
Per-event files (`~/.openhands/sessions/<id>/events/<n>.json`) are one session, `<id>`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.base import Collector, Location, Output, SourceInput, loads_json
from agentaudit.schema import Quarantined, new_event, parse_time, raw_json

_FILE_ACTIONS = {"read": "read", "edit": "edit", "write": "write"}


class OpenHandsTrajectory(Collector):
    name = "openhands.trajectory"
    source = "openhands.trajectory"
    version = "1"
    description = "OpenHands V0 trajectories (JSON array of action/observation events)"
    origin = "agent"
    agent = "openhands"
    locations = (Location("OpenHands events", ("~/.openhands/sessions",), ("*/events/*.json",)),)
    incremental = False

    def sniff(self, path: Path, head: bytes) -> bool:
        start = head.lstrip()[:1]
        action = b'"action"' in head and b'"args"' in head
        observation = b'"observation"' in head and b'"extras"' in head
        return start in (b"[", b"{") and b'"source"' in head and (action or observation)

    def collect(self, src: SourceInput) -> Iterator[Output]:
        data = src.read_all()
        try:
            doc = loads_json(data)
        except ValueError as exc:
            yield Quarantined(f"invalid JSON document: {exc}", data[:4096], None, 0)
            return
        events = doc if isinstance(doc, list) else [doc]
        file = Path(src.path)
        # `sessions/<id>/events/<n>.json`: one file per event, one session for them all
        session = file.parent.parent.name if file.parent.name == "events" else file.stem
        answers: dict[Any, dict[str, Any]] = {}
        for event in events:
            if (
                isinstance(event, dict)
                and "observation" in event
                and event.get("cause") is not None
            ):
                answers.setdefault(event["cause"], event)
        answered = set()
        for index, event in enumerate(events):
            if not isinstance(event, dict) or not ("action" in event or "observation" in event):
                yield Quarantined(
                    "not an OpenHands event", raw_json(event).encode()[:4096], index + 1
                )
                continue
            if "action" in event:
                observation = answers.get(event.get("id"))
                if observation is not None:
                    answered.add(id(observation))
                yield self._action(src.path, session, index, event, observation)
            elif id(event) not in answered:
                yield self._other(src.path, session, index, event)

    def _base(self, path: str, session: str, index: int, event: dict[str, Any]) -> dict[str, Any]:
        time = parse_time(event.get("timestamp"))
        metadata = event.get("tool_call_metadata") or {}
        response = metadata.get("model_response") if isinstance(metadata, dict) else None
        return {
            "source_path": path,
            "seq": index,
            "parser_version": self.parser_version,
            "time": time,
            "time_precision": "us" if time else "none",
            "agent": "openhands",
            "model": response.get("model") if isinstance(response, dict) else None,
            "session_id": session,
            "tool_call_id": metadata.get("tool_call_id") if isinstance(metadata, dict) else None,
        }

    def _action(
        self,
        path: str,
        session: str,
        index: int,
        event: dict[str, Any],
        observation: dict[str, Any] | None,
    ) -> dict[str, Any]:
        action = str(event.get("action"))
        args = event.get("args") if isinstance(event.get("args"), dict) else {}
        columns = self._base(path, session, index, event)
        columns["tool_call_id"] = (
            columns["tool_call_id"] or f"openhands-{session}-{event.get('id')}"
        )
        columns["tool_name"] = action
        if action in ("run", "run_ipython"):
            columns.update(kind="process", command=args.get("command") or args.get("code"))
        elif action in _FILE_ACTIONS:
            path_arg = args.get("path")
            columns.update(
                kind="file",
                operation=_FILE_ACTIONS[action],
                paths=[path_arg] if path_arg else None,
                target=path_arg,
            )
        elif action in ("browse", "browse_interactive"):
            columns.update(kind="api", operation="browse", url=args.get("url"))
        elif action in ("message", "finish"):
            text = args.get("content") or args.get("final_thought") or args.get("thought")
            role = "user_prompt" if event.get("source") == "user" else f"agent_{action}"
            columns.update(
                kind="message", operation=role, text=text, tool_call_id=None, tool_name=None
            )
        else:
            columns.update(kind="other", operation=action)
        if columns["kind"] != "message":
            columns.update(_outcome(observation))
        if args.get("confirmation_state") == "rejected":
            columns["status"] = "denied"
        extras = (observation or {}).get("extras") or {}
        metadata = extras.get("metadata") if isinstance(extras, dict) else None
        if isinstance(metadata, dict) and metadata.get("working_dir"):
            columns["cwd"] = metadata["working_dir"]
        record = {"action": event, "observation": observation} if observation else event
        columns["raw"] = raw_json(record)
        return new_event(self.source, f"{session}:{event.get('id')}:{index}", **columns)

    def _other(self, path: str, session: str, index: int, event: dict[str, Any]) -> dict[str, Any]:
        columns = self._base(path, session, index, event)
        columns.update(
            kind="other", operation=f"observation:{event.get('observation')}", raw=raw_json(event)
        )
        return new_event(self.source, f"{session}:{event.get('id')}:{index}", **columns)


def _outcome(observation: dict[str, Any] | None) -> dict[str, Any]:
    if observation is None:
        return {"status": "unknown"}
    extras = observation.get("extras") if isinstance(observation.get("extras"), dict) else {}
    metadata = extras.get("metadata") if isinstance(extras.get("metadata"), dict) else {}
    code = metadata.get("exit_code")
    if observation.get("observation") == "error":
        return {"status": "failure", "error": str(observation.get("content") or "")[:2000]}
    if isinstance(code, int):
        if code == -1:  # still running (a server) or timed out
            return {"status": "unknown", "exit_code": None}
        status = "success" if code == 0 else "failure"
        error = str(observation.get("content") or "")[:2000] if code else None
        return {"status": status, "exit_code": code, "error": error}
    if observation.get("success") is False:
        return {"status": "failure"}
    return {"status": "success"}
