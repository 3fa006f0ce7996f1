"""Claude Code transcript ingest vs DuckDB's own read_json on the same files, and peak memory.

    python -m bench.transcript_ingest [--mb 300 --small-mb 100]

Generates (once, under bench/data/, gitignored) a corpus of Claude Code session files shaped
like the real ones (one line per content block, tool_use / tool_result pairs with outputs of
varied size, hook_progress lines, a few fake secrets), then runs, each in its own process:
ours = `ingest_paths` (parse, join, redact, analyse, Arrow, DuckDB append with dedup) into a
fresh store; baseline = DuckDB `CREATE TABLE AS SELECT * FROM read_json(...)` on the same
files. Ours also runs on a smaller corpus to show whether peak memory grows with input size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.measure import children_peak_rss_mb, cpu_seconds, peak_rss_mb, run_side
from bench.results import write_section

DATA = Path(__file__).parent / "data"
SESSION_BYTES = 2_000_000
COMMANDS = [
    "git status --short",
    "npm test -- --watch=false",
    "ls -la src/components",
    "rm -rf build dist",
    "pytest -q tests/test_api.py",
    "cat package.json",
    "curl -s https://api.example.com/health",
    "docker compose up -d db",
    "railway volume list --service api",
    "grep -rn TODO src | head -50",
    "kubectl get pods -n staging",
    "terraform plan -out plan.tfplan",
]
WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "that",
    "for",
    "it",
    "with",
    "as",
    "was",
    "on",
    "be",
    "by",
    "this",
    "are",
    "from",
    "at",
    "or",
    "an",
]


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _output(rng: random.Random) -> str:
    lines = rng.randint(2, 120)
    out = [
        f"{rng.choice(WORDS)} {rng.randint(0, 99999)} {_text(rng, rng.randint(3, 12))}"
        for _ in range(lines)
    ]
    if rng.random() < 0.01:
        out.append("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    return "\n".join(out)


def session_lines(rng: random.Random, target: int) -> list[str]:
    session = str(uuid.UUID(int=rng.getrandbits(128)))
    t = datetime(2026, 4, 1, tzinfo=UTC) + timedelta(seconds=rng.randint(0, 86400 * 20))
    common = {
        "isSidechain": False,
        "userType": "external",
        "cwd": "/home/dev/projects/app",
        "sessionId": session,
        "version": "2.1.38",
        "gitBranch": "main",
    }
    lines: list[str] = []
    size = 0
    parent = None

    def add(record: dict) -> None:
        nonlocal size, parent, t
        t += timedelta(milliseconds=rng.randint(50, 4000))
        uid = str(uuid.UUID(int=rng.getrandbits(128)))
        line = json.dumps(
            {
                "parentUuid": parent,
                **common,
                **record,
                "uuid": uid,
                "timestamp": t.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            },
            separators=(",", ":"),
        )
        parent = uid
        lines.append(line)
        size += len(line) + 1

    while size < target:
        add(
            {
                "type": "user",
                "message": {"role": "user", "content": _text(rng, rng.randint(5, 60))},
                "permissionMode": "default",
            }
        )
        message_id = f"msg_{rng.getrandbits(64):016x}"
        usage = {
            "input_tokens": 3,
            "output_tokens": rng.randint(10, 900),
            "cache_read_input_tokens": 20000,
        }
        for _ in range(rng.randint(1, 4)):
            model = {
                "model": "claude-opus-4-6",
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "usage": usage,
            }
            add(
                {
                    "type": "assistant",
                    "requestId": f"req_{rng.getrandbits(64):x}",
                    "message": {
                        **model,
                        "content": [
                            {
                                "type": "thinking",
                                "thinking": _text(rng, rng.randint(10, 120)),
                                "signature": "x" * 40,
                            }
                        ],
                    },
                }
            )
            add(
                {
                    "type": "assistant",
                    "message": {
                        **model,
                        "content": [{"type": "text", "text": _text(rng, rng.randint(5, 80))}],
                    },
                }
            )
            call_id = f"toolu_{rng.getrandbits(96):024x}"
            kind = rng.random()
            if kind < 0.6:
                tool_input = {"command": rng.choice(COMMANDS), "description": _text(rng, 5)}
                name, result = (
                    "Bash",
                    {"stdout": _output(rng), "stderr": "", "interrupted": False, "isImage": False},
                )
            elif kind < 0.85:
                path = f"/home/dev/projects/app/src/{rng.choice(WORDS)}_{rng.randint(0, 500)}.ts"
                tool_input = {"file_path": path}
                content = _output(rng)
                name, result = (
                    "Read",
                    {
                        "type": "text",
                        "file": {
                            "filePath": path,
                            "content": content,
                            "numLines": content.count("\n") + 1,
                        },
                    },
                )
            else:
                path = f"/home/dev/projects/app/src/{rng.choice(WORDS)}.ts"
                tool_input = {
                    "file_path": path,
                    "old_string": _text(rng, 8),
                    "new_string": _text(rng, 9),
                }
                name, result = (
                    "Edit",
                    {
                        "filePath": path,
                        "oldString": tool_input["old_string"],
                        "newString": tool_input["new_string"],
                    },
                )
            add(
                {
                    "type": "assistant",
                    "message": {
                        **model,
                        "content": [
                            {"type": "tool_use", "id": call_id, "name": name, "input": tool_input}
                        ],
                    },
                }
            )
            for _ in range(2):
                add(
                    {
                        "type": "progress",
                        "data": {
                            "type": "hook_progress",
                            "hookEvent": "PreToolUse",
                            "hookName": f"PreToolUse:{name}",
                            "command": "agentaudit-hook claude-code",
                        },
                        "toolUseID": call_id,
                        "parentToolUseID": call_id,
                    }
                )
            failed = name == "Bash" and rng.random() < 0.05
            content = (
                ("Exit code 1\n" + result["stdout"][:400])
                if failed
                else (result.get("stdout") or "ok")
            )
            add(
                {
                    "type": "user",
                    "message": {
                        "role": "user",
                        "content": [
                            {
                                "tool_use_id": call_id,
                                "type": "tool_result",
                                "content": content,
                                "is_error": failed,
                            }
                        ],
                    },
                    "toolUseResult": ("Error: " + content) if failed else result,
                    "sourceToolAssistantUUID": parent,
                }
            )
    return lines


def generate(mb: int) -> Path:
    """bench/data/claude-<mb>mb/<project>/<session>.jsonl, generated once (deterministic)."""
    folder = DATA / f"claude-{mb}mb"
    done = folder / ".complete"
    if done.exists():
        return folder
    rng = random.Random(mb)
    total = 0
    index = 0
    while total < mb * 1_000_000:
        project = folder / f"-home-dev-projects-app{index % 8}"
        project.mkdir(parents=True, exist_ok=True)
        lines = session_lines(rng, SESSION_BYTES)
        path = project / f"session-{index:05d}.jsonl"
        path.write_text("\n".join(lines) + "\n")
        total += path.stat().st_size
        index += 1
    done.write_text(str(total))
    return folder


def files_of(folder: Path) -> list[Path]:
    return sorted(folder.glob("*/*.jsonl"))


def side_ours(folder: Path, db: Path, jobs: int = 1) -> dict:
    from agentaudit.enrich.secrets import Redactor
    from agentaudit.ingest import ingest_paths
    from agentaudit.store import Store
    from agentaudit.testing import TEST_KEY

    started = time.perf_counter()
    with Store.open(db) as store:
        report = ingest_paths(
            store,
            files_of(folder),
            source="claude-code.transcript",
            redactor=Redactor(TEST_KEY),
            jobs=jobs,
        )
        rows = store.count("events")
    seconds = time.perf_counter() - started
    assert report.quarantined == 0 and rows == report.ingested
    return {
        "seconds": seconds,
        "cpu": cpu_seconds(),
        "rows": rows,
        "peak_rss_mb": peak_rss_mb(),
        "worker_peak_rss_mb": children_peak_rss_mb(),
        "jobs": jobs,
    }


def side_pipeline(folder: Path, db: Path) -> dict:
    """Ours without the store: read, join, redact, analyse; events dropped after each batch."""
    from agentaudit.collectors import get_collector
    from agentaudit.collectors.base import SourceInput
    from agentaudit.enrich.secrets import Redactor
    from agentaudit.ingest.records import batches as _batches
    from agentaudit.ingest.records import enrich_events
    from agentaudit.testing import TEST_KEY

    redactor, collector = Redactor(TEST_KEY), get_collector("claude-code.transcript")
    started = time.perf_counter()
    rows = 0
    for path in files_of(folder):
        with path.open("rb") as fh:
            for events, _bad in _batches(collector.collect(SourceInput(str(path), fh))):
                enrich_events(events, redactor)  # the prefilter and enrichment, as ingest does
                rows += len(events)
    return {
        "seconds": time.perf_counter() - started,
        "cpu": cpu_seconds(),
        "rows": rows,
        "peak_rss_mb": peak_rss_mb(),
    }


def side_duckdb(folder: Path, db: Path) -> dict:
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect(str(db))
    con.execute(
        "CREATE TABLE lines AS SELECT * FROM read_json(?, format='newline_delimited', "
        "union_by_name=true, maximum_object_size=67108864)",
        [str(folder / "*" / "*.jsonl")],
    )
    rows = con.execute("SELECT count(*) FROM lines").fetchall()[0][0]
    con.close()
    return {
        "seconds": time.perf_counter() - started,
        "cpu": cpu_seconds(),
        "rows": rows,
        "peak_rss_mb": peak_rss_mb(),
    }


def _verdict(wall_ratio: float, cpu_ratio: float, mb: float) -> str:
    met = "met" if wall_ratio >= 0.5 else "not met"
    return (
        f"Target (at least half of read_json's throughput, by wall time) at {mb:.0f} MB: **{met}** "
        f"({wall_ratio:.2f}; by CPU time {cpu_ratio:.2f})."
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=300)
    parser.add_argument("--small-mb", type=int, default=100)
    parser.add_argument("--side", choices=["ours", "pipeline", "duckdb"])
    parser.add_argument("--data")
    parser.add_argument("--db")
    parser.add_argument("--jobs", type=int, default=0, help="ingest worker processes (0: auto)")
    args = parser.parse_args()
    if not args.jobs and args.side in (None, "ours"):  # other sides import nothing of ours
        from agentaudit.ingest.parallel import default_jobs

        args.jobs = default_jobs()
    if args.side:
        data, db = Path(args.data), Path(args.db)
        if args.side == "ours":
            print(json.dumps(side_ours(data, db, args.jobs)))
            return
        side = {"pipeline": side_pipeline, "duckdb": side_duckdb}[args.side]
        print(json.dumps(side(data, db)))
        return
    load = os.getloadavg()[0]
    big, small = generate(args.mb), generate(args.small_mb)
    sizes = {f: sum(p.stat().st_size for p in files_of(f)) / 1e6 for f in (big, small)}
    lines = {f: sum(p.read_bytes().count(b"\n") for p in files_of(f)) for f in (big, small)}
    with tempfile.TemporaryDirectory() as tmp:

        def run(side: str, folder: Path, name: str) -> dict:
            return run_side(
                "bench.transcript_ingest",
                "--side",
                side,
                "--data",
                str(folder),
                "--db",
                f"{tmp}/{name}.duckdb",
                "--jobs",
                str(args.jobs),
            )

        base = run("duckdb", big, "base")
        ours = run("ours", big, "ours")
        ours_small = run("ours", small, "ours_small")
        base_small = run("duckdb", small, "base_small")
        pipe = run("pipeline", big, "unused")
        pipe_small = run("pipeline", small, "unused_small")
    assert base["rows"] == lines[big], (base, lines[big])
    mb_s = {
        k: sizes[f] / v["seconds"]
        for k, v, f in (
            ("ours", ours, big),
            ("base", base, big),
            ("ours_small", ours_small, small),
            ("base_small", base_small, small),
        )
    }
    ratio = mb_s["ours"] / mb_s["base"]

    def memory(side: dict) -> str:
        extra = side.get("worker_peak_rss_mb") or 0
        return f"{side['peak_rss_mb']:.0f}" + (
            f" + {side['jobs']} workers x {extra:.0f}" if extra else ""
        )

    jobs = ours["jobs"]
    body = f"""## Claude Code transcript ingest (issue 3)

`python -m bench.transcript_ingest --mb {args.mb} --small-mb {args.small_mb}`: generated Claude Code
transcripts ({len(files_of(big))} session files, {sizes[big]:.0f} MB, {lines[big]:,} lines; and a
{sizes[small]:.0f} MB corpus), each side in its own process into a fresh DuckDB file.
Ours: `ingest_paths(..., jobs={jobs})` with the `claude-code.transcript` collector: {jobs} worker
processes each parse whole files (in groups of about 8 MB), join every tool_use to its tool_result,
redact secrets, analyse commands and convert to Arrow; the parent appends (anti-join on event_id),
up to 48 MB per statement.
Baseline: DuckDB `CREATE TABLE AS SELECT * FROM read_json(..., union_by_name=true)` on the same files
(loads each line as a row, no joins, no redaction; DuckDB's own threads on both cores).

| side | input MB | wall s | CPU s | MB/s (wall) | rows | peak RSS MB |
|---|---:|---:|---:|---:|---:|---:|
| agentaudit ingest --jobs {jobs} | {sizes[big]:.0f} | {ours["seconds"]:.1f} | {ours["cpu"]:.1f} | {mb_s["ours"]:.1f} | {ours["rows"]:,} events | {memory(ours)} |
| DuckDB `read_json` | {sizes[big]:.0f} | {base["seconds"]:.1f} | {base["cpu"]:.1f} | {mb_s["base"]:.1f} | {base["rows"]:,} lines | {base["peak_rss_mb"]:.0f} |
| agentaudit ingest --jobs {jobs} | {sizes[small]:.0f} | {ours_small["seconds"]:.1f} | {ours_small["cpu"]:.1f} | {mb_s["ours_small"]:.1f} | {ours_small["rows"]:,} events | {memory(ours_small)} |
| DuckDB `read_json` | {sizes[small]:.0f} | {base_small["seconds"]:.1f} | {base_small["cpu"]:.1f} | {mb_s["base_small"]:.1f} | {base_small["rows"]:,} lines | {base_small["peak_rss_mb"]:.0f} |
| ours without the store (collect + enrich, 1 process) | {sizes[big]:.0f} | {pipe["seconds"]:.1f} | {pipe["cpu"]:.1f} | {sizes[big] / pipe["seconds"]:.1f} | {pipe["rows"]:,} events | {pipe["peak_rss_mb"]:.0f} |
| ours without the store (collect + enrich, 1 process) | {sizes[small]:.0f} | {pipe_small["seconds"]:.1f} | {pipe_small["cpu"]:.1f} | {sizes[small] / pipe_small["seconds"]:.1f} | {pipe_small["rows"]:,} events | {pipe_small["peak_rss_mb"]:.0f} |

**Throughput ratio (ours / read_json) at {sizes[big]:.0f} MB: {ratio:.2f} by wall time, {base["cpu"] / ours["cpu"]:.2f} by CPU time**
(target ≥ 0.5; at {sizes[small]:.0f} MB: {mb_s["ours_small"] / mb_s["base_small"]:.2f} by wall time). CPU s counts each process and
its worker processes. Load average when the run started: {load:.1f}, at the end {os.getloadavg()[0]:.1f}, on {os.cpu_count()} cores (shared machine).
Peak RSS of ours (parent; per worker): {memory(ours_small)} MB at {sizes[small]:.0f} MB input, {memory(ours)} MB at
{sizes[big]:.0f} MB input. A worker's peak includes pages shared with the parent at fork.

{_verdict(ratio, base["cpu"] / ours["cpu"], sizes[big])}
Without the store, collect + enrich in one process used {pipe["cpu"]:.1f} CPU-s at {sizes[big]:.0f} MB,
{pipe["cpu"] / base["cpu"]:.1f}x read_json's whole load ({base["cpu"]:.1f} CPU-s); the parent's DuckDB appends and the
pool's overhead come on top. With both sides on both cores, wall time follows CPU time, and a
third process on this shared machine takes more from ours (three processes) than from read_json.

History (same command): 2026-11-22 04:34 UTC, one process: 0.22 by wall and 0.21 by CPU at
302 MB. 07:10 UTC, worker processes: 0.23 by wall (load 4.9). Then, measured per 101 MB in one
process (CPU-s, before -> after): the secret prefilter 2.0 -> 0.7 (one compiled google-re2 per
process, its DFA kept warm across batches, no submatch work; pyarrow's regex kernel recompiled the
pattern per batch), JSON decoding 0.48 -> 0.16 (msgspec, the standard library for what it
refuses), enrichment 0.5 -> 0.35 (no redaction pass over texts the prefilter ruled out), Arrow
conversion 3x faster (column by column); the parent's appends 1.4 -> 0.9 (`raw` stored with zstd:
DuckDB's default analysis also wrote twice the bytes), checkpoints of one append in one statement
(50 statements cost 0.2), DuckDB on one thread while the workers run, and a checkpoint every
100,000 new events (at the 256 MB buffer limit DuckDB otherwise spilled what was not yet
checkpointed: the parent's CPU at 302 MB fell from 7.6 to 4.9 s). Then, at 302 MB: workers hand
their events over as Arrow IPC files the parent maps instead of pickles through a pipe (parent
4.9 -> 4.2 CPU-s, workers 8.7 -> 8.2), workers keep freed memory in glibc's heap (a quarter of the
page faults), a plain insert when no key of a batch is stored yet (the anti-join only for
batches that meet stored keys: about 8% less DuckDB CPU), and an empty-event template copied
per event (the Claude parse 1.03 -> 0.86 CPU-s per 100 MB). The ratio moves with the machine's
load: the same command gave 0.44-0.50 by wall time at load averages of 2 to 3 (other work on
this shared machine) and 0.49-0.52 at 0.4 to 1.3.
"""
    write_section("transcript_ingest", body)
    sys.stdout.write(body)


if __name__ == "__main__":
    main()
