"""Gemini CLI chat files: `~/.gemini/tmp/<project>/chats/session-*.json` (and `logs.json`).

A chat file is one JSON document `{sessionId, startTime, messages[]}`, rewritten in place as
the chat grows, so it is read whole each time it changes (event ids are stable, so a re-read
adds only what is new). Each `gemini` message's `toolCalls[]` become call events with their
own id, status and result (`Exit Code: N` read from shell output); user / gemini / info /
error messages are message events. `logs.json` (a list of user prompts) is read too.
Newer CLIs write a JSONL recorder file: each line holding a message is read the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.agents._shared import exit_code_in, json_records, text_of, tool_columns
from agentaudit.collectors.base import Collector, Location, Output, SourceInput, loads_json
from agentaudit.schema import Quarantined, new_event, parse_time, raw_json

_STATUS = {"success": "success", "error": "failure", "cancelled": "denied"}


class GeminiChat(Collector):
    name = "gemini.chat"
    source = "gemini.chat"
    version = "1"
    description = "Gemini CLI chat sessions (~/.gemini/tmp/*/chats/session-*.json) and logs.json"
    origin = "agent"
    agent = "gemini"
    locations = (
        Location(
            "Gemini CLI chats",
            ("${GEMINI_DIR:-~/.gemini}/tmp",),
            ("*/chats/session-*.json", "*/chats/session-*.jsonl", "*/logs.json"),
        ),
    )
    incremental = False  # the JSON document is rewritten in place

    def sniff(self, path: Path, head: bytes) -> bool:
        compact = head[:2048].replace(b" ", b"").replace(b"\n", b"")
        if b'"projectHash"' in head and b'"sessionId"' in head:
            return True
        return compact.startswith(b'[{"sessionId"') and b'"messageId"' in compact

    def collect(self, src: SourceInput) -> Iterator[Output]:
        if Path(src.path).suffix == ".jsonl":
            yield from self._jsonl(src)
            return
        data = src.read_all()
        try:
            doc = loads_json(data)
        except ValueError as exc:
            yield Quarantined(f"invalid JSON document: {exc}", data[:4096], None, 0)
            return
        if isinstance(doc, list):  # logs.json: user prompts
            for index, entry in enumerate(doc):
                if not isinstance(entry, dict):
                    yield Quarantined(
                        "log entry is not an object", raw_json(entry).encode(), index + 1
                    )
                    continue
                yield self._prompt_log(src.path, index, entry)
            return
        if not isinstance(doc, dict) or not isinstance(doc.get("messages"), list):
            yield Quarantined("no messages[] in chat document", data[:4096], None, 0)
            return
        session = doc.get("sessionId") or Path(src.path).stem
        for index, message in enumerate(doc["messages"]):
            if not isinstance(message, dict):
                yield Quarantined("message is not an object", raw_json(message).encode(), index + 1)
                continue
            yield from self._message(src.path, session, index, message)

    def _jsonl(self, src: SourceInput) -> Iterator[Output]:
        """The JSONL recorder re-appends a message whole on every update: the last copy wins."""
        session = Path(src.path).stem
        latest: dict[Any, tuple[int, int, dict[str, Any]]] = {}
        for item in json_records(src):
            if isinstance(item, Quarantined):
                yield item
                continue
            line, record, _text = item
            if not isinstance(record, dict):
                yield Quarantined("not a JSON object", line.data, line.number, line.offset)
                continue
            session = record.get("sessionId") or session
            if record.get("type") in ("user", "gemini", "info", "error", "warning"):
                key = record.get("id") or f"line-{line.number}"
                first = latest.get(key, (line.number, line.offset, record))
                latest[key] = (first[0], first[1], record)
        for number, offset, record in latest.values():
            yield from self._message(src.path, session, number, record, offset)

    def _columns(self, path: str, index: int, offset: int | None, record: Any) -> dict[str, Any]:
        return {
            "source_path": path,
            "source_offset": offset,
            "seq": index,
            "parser_version": self.parser_version,
            "agent": "gemini",
            "raw": raw_json(record),
        }

    def _prompt_log(self, path: str, index: int, entry: dict[str, Any]) -> dict[str, Any]:
        time = parse_time(entry.get("timestamp"))
        return new_event(
            self.source,
            f"log:{entry.get('sessionId')}:{entry.get('messageId')}:{index}",
            **self._columns(path, index, None, entry),
            time=time,
            time_precision="ms" if time else "none",
            session_id=entry.get("sessionId"),
            kind="message",
            operation="user_prompt",
            text=text_of(entry.get("message")),
        )

    def _message(
        self,
        path: str,
        session: str,
        index: int,
        message: dict[str, Any],
        offset: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        time = parse_time(message.get("timestamp"))
        base = {
            **self._columns(path, index, offset, message),
            "time": time,
            "time_precision": "ms" if time else "none",
            "session_id": session,
            "model": message.get("model"),
        }
        kind = message.get("type")
        message_id = message.get("id") or index
        text = text_of(message.get("content"))
        if text or kind != "gemini":
            operation = {"user": "user_prompt", "gemini": "assistant_text"}.get(
                str(kind), str(kind)
            )
            yield new_event(
                self.source,
                f"msg:{session}:{message_id}",
                **base,
                kind="message",
                operation=operation,
                text=text,
            )
        for call in message.get("toolCalls") or []:
            if isinstance(call, dict):
                yield self._call(base, session, call)

    def _call(self, base: dict[str, Any], session: str, call: dict[str, Any]) -> dict[str, Any]:
        name = call.get("name")
        columns = tool_columns(name, call.get("args"))
        output = _output(call.get("result"))
        status = _STATUS.get(str(call.get("status")), "unknown")
        code = exit_code_in(output) if columns["kind"] == "process" else None
        if code is not None:
            status = "success" if code == 0 else "failure"
        time = parse_time(call.get("timestamp")) or base["time"]
        columns.update(
            raw=raw_json(call),
            time=time,
            tool_call_id=call.get("id"),
            tool_name=name,
            status=status,
            exit_code=code,
            error=(output or "")[:2000] if status == "failure" else None,
        )
        return new_event(self.source, f"call:{session}:{call.get('id')}", **{**base, **columns})


def _output(result: Any) -> str | None:
    """The text a tool returned: `result[].functionResponse.response.output`."""
    if isinstance(result, list):
        parts = []
        for item in result:
            response = (
                item.get("functionResponse", {}).get("response") if isinstance(item, dict) else None
            )
            if isinstance(response, dict):
                parts.append(str(response.get("output") or response.get("error") or ""))
        return "\n".join(parts) or None
    return text_of(result)
