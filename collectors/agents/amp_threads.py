"""Amp threads: `~/.local/share/amp/threads/T-<id>.json` (one JSON document a thread).

Shapes as reported by public readers (FORMATS.md §9; not vendor-documented): `id` (the
session), `created` (ms), `env.initial.trees[].uri` (the workspace), and `messages[]` of
Anthropic-style content blocks. An assistant `tool_use {id, name, input}` (`Bash` with
`{cmd, cwd}`, `edit_file`, `create_file`, `Read`, MCP tools...) is joined to the user
message's `tool_result {toolUseID, run: {status, result: {output, exitCode}}}`:
`rejected-by-user` is a refusal, `error` / `cancelled` a failure, and `exitCode` is real.
Messages carry few times (`meta.sentAt` on user messages, `usage.timestamp` on some
replies): a message without one takes the last time seen, marked `time_precision` none.
Amp rewrites the thread file as it grows, so it is read whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from agentaudit.collectors.agents._shared import decided_by, text_of, tool_columns
from agentaudit.collectors.base import (
    XDG_DATA,
    Collector,
    Location,
    Output,
    SourceInput,
    loads_json,
)
from agentaudit.schema import Quarantined, new_event, parse_time, raw_json


class AmpThread(Collector):
    name = "amp.thread"
    source = "amp.thread"
    version = "1"
    description = "Amp threads (~/.local/share/amp/threads/T-*.json)"
    origin = "agent"
    agent = "amp"
    locations = (Location("Amp threads", (f"{XDG_DATA}/amp/threads",), ("T-*.json",)),)
    incremental = False

    def sniff(self, path: Path, head: bytes) -> bool:
        return (
            path.name.startswith("T-")
            and path.suffix == ".json"
            and b'"messages"' in head
            and b'"id"' in head
        )

    def collect(self, src: SourceInput) -> Iterator[Output]:
        data = src.read_all()
        try:
            thread = loads_json(data)
        except ValueError as exc:
            yield Quarantined(f"invalid JSON document: {exc}", data[:4096], None, 0)
            return
        if not isinstance(thread, dict) or not isinstance(thread.get("messages"), list):
            yield Quarantined("not an Amp thread", data[:4096], None, 0)
            return
        session = str(thread.get("id") or Path(src.path).stem)
        env = (thread.get("env") or {}).get("initial") or {}
        trees = env.get("trees") if isinstance(env.get("trees"), list) else []
        uri = trees[0].get("uri") if trees and isinstance(trees[0], dict) else None
        cwd = (
            unquote(urlparse(uri).path)
            if isinstance(uri, str) and uri.startswith("file:")
            else None
        )
        created = thread.get("created")
        last_time = parse_time(created / 1000) if isinstance(created, int | float) else None
        common = {
            "source_path": src.path,
            "parser_version": self.parser_version,
            "agent": "amp",
            "agent_version": (env.get("platform") or {}).get("clientVersion"),
            "session_id": session,
            "cwd": cwd,
        }
        open_calls: dict[str, dict[str, Any]] = {}
        model = None
        for index, message in enumerate(thread["messages"]):
            if not isinstance(message, dict):
                yield Quarantined("not a message", raw_json(message).encode()[:4096], index + 1)
                continue
            usage = message.get("usage") if isinstance(message.get("usage"), dict) else {}
            model = usage.get("model") or model
            meta = message.get("meta") if isinstance(message.get("meta"), dict) else {}
            own = meta.get("sentAt") or usage.get("timestamp")
            own_time = parse_time(own / 1000 if isinstance(own, int | float) else own)
            last_time = own_time or last_time
            base = {**common, "seq": index, "model": model, "time": last_time}
            base["time_precision"] = "ms" if own_time else "none"
            blocks = message.get("content") if isinstance(message.get("content"), list) else []
            for place, block in enumerate(blocks):
                if not isinstance(block, dict):
                    continue
                key = f"{session}:{message.get('messageId', index)}:{place}"
                yield from self._block(message.get("role"), block, base, key, open_calls)
        for call_id, call in open_calls.items():
            yield new_event(self.source, f"{session}:call:{call_id}", **call)

    def _block(
        self,
        role: Any,
        block: dict[str, Any],
        base: dict[str, Any],
        key: str,
        open_calls: dict[str, dict[str, Any]],
    ) -> Iterator[dict[str, Any]]:
        kind = block.get("type")
        if kind == "tool_use" and block.get("id"):
            columns = tool_columns(block.get("name"), block.get("input"))
            columns["cwd"] = columns.get("cwd") or base["cwd"]
            open_calls[str(block["id"])] = {
                **base, **columns, "tool_name": block.get("name"),
                "tool_call_id": block["id"], "status": "unknown", "raw": raw_json(block),
            }  # fmt: skip
        elif kind == "tool_result":
            call_id = str(block.get("toolUseID") or block.get("tool_use_id"))
            outcome = _outcome(block.get("run"))
            call = open_calls.pop(call_id, None)
            if call is None:
                row = {**base, "kind": "other", "operation": "tool_result", "tool_call_id": call_id}
                yield new_event(self.source, key, **row, **outcome, raw=raw_json(block))
                return
            call.update(
                outcome, raw=f'{{"tool_use":{call["raw"]},"tool_result":{raw_json(block)}}}'
            )
            yield new_event(self.source, f"{base['session_id']}:call:{call_id}", **call)
        elif kind in ("text", "thinking"):
            said = block.get("text") if kind == "text" else block.get("thinking")
            operation = (
                "thinking"
                if kind == "thinking"
                else "user_prompt"
                if role == "user"
                else "assistant_text"
            )
            yield new_event(
                self.source,
                key,
                **base,
                kind="message",
                operation=operation,
                text=text_of(said),
                raw=raw_json(block),
            )
        else:
            yield new_event(
                self.source,
                key,
                **base,
                kind="other",
                operation=f"{role}:{kind}",
                status="unknown",
                raw=raw_json(block),
            )


def _outcome(run: Any) -> dict[str, Any]:
    run = run if isinstance(run, dict) else {}
    status = run.get("status")
    result = run.get("result") if isinstance(run.get("result"), dict) else {}
    if status == "rejected-by-user":
        return decided_by({"status": "denied", "error": "rejected by the user"}, "human")
    if status in ("error", "cancelled"):
        error = run.get("error") or result.get("output") or status
        return {"status": "failure", "error": str(error)[:2000]}
    code = result.get("exitCode")
    if isinstance(code, int):
        outcome = {"status": "success" if code == 0 else "failure", "exit_code": code}
        if code:
            outcome["error"] = str(result.get("output") or "")[:2000] or None
        return outcome
    return {"status": "success" if status == "done" else "unknown"}
