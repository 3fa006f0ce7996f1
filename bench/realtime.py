"""Write-to-alert latency of `agentaudit watch`, idle and under background load.

    python -m bench.realtime [--incidents 30] [--rates 1000,2000]

`watch` runs as a real subprocess; the PocketOS incident is written into its watched files
in real time (a fresh session, volume and timestamps each time), and the latency is from the
write of the first record that can page (the volumeDelete curl) to the alert's arrival at a
real HTTP receiver on 127.0.0.1. Under load, a separate process appends benign Cursor hook
lines from ten other sessions at the given rate into another watched file.

Side by side under the same load, the baseline is the same service detecting over the whole
store on every pass (window = everything) instead of over the batch and its recent window.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.results import write_section

BENIGN = ["git status", "npm test", "ls -la src", "pytest -q", "cat README.md", "make lint",
          "git diff --stat", "rg TODO src", "docker compose ps", "python -m build"]  # fmt: skip


def background_writer(path: Path, rate: int, seconds: float) -> None:
    """Append `rate` benign hook lines a second, in 10 ms ticks; print what was written."""
    started = time.monotonic()
    written = 0
    with path.open("ab", buffering=0) as fh:
        while (elapsed := time.monotonic() - started) < seconds:
            due = int(rate * elapsed) - written
            if due > 0:
                stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
                lines = []
                for i in range(written, written + due):
                    payload = {
                        "conversation_id": f"bg-{i % 10}",
                        "generation_id": f"gen-{i // 50}",
                        "hook_event_name": "beforeShellExecution",
                        "cursor_version": "3.1.15",
                        "command": BENIGN[i % len(BENIGN)],
                        "cwd": f"/home/dev/project-{i % 10}",
                        "seq": i,
                    }
                    record = {"received_at": stamp, "agent": "cursor", "payload": payload}
                    lines.append(json.dumps(record, separators=(",", ":")))
                fh.write(("\n".join(lines) + "\n").encode())
                written += due
            time.sleep(0.01)
    print(json.dumps({"written": written, "seconds": time.monotonic() - started}))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def seed_history(db: Path, rows: int) -> None:
    """A store that already holds `rows` events of earlier work, detected and paged."""
    from agentaudit.alert.config import from_urls
    from agentaudit.alert.engine import evaluate
    from agentaudit.detect.driver import run_detection
    from agentaudit.store import Store
    from bench.store_append import generate

    with Store.open(db) as store:
        batch: list = []
        for event in generate(rows):
            batch.append(event)
            if len(batch) == 50_000:
                store.append_events(batch)
                batch = []
        if batch:
            store.append_events(batch)
        run_detection(store)
        evaluate(store, from_urls([]))  # its alerts exist already; no receiver: nothing to send


def run_side(
    incidents: int,
    rate: int,
    window_seconds: float,
    context: str,
    history: int = 0,
    history_db: str = "",
) -> dict:
    """One watch process, `incidents` replays, background load at `rate` events/s."""
    from agentaudit.realtime.watch.harness import WatchProcess, free_port, wait_for, write_config
    from agentaudit.realtime.watch.replay import pocketos_records, replay
    from agentaudit.receiver import LocalReceiver

    work = Path(tempfile.mkdtemp(prefix="bench-realtime-"))
    logs = work / "logs"
    logs.mkdir()
    port = free_port()
    latencies: list[float] = []
    env = {"AGENTAUDIT_HOME": str(work / "home")}
    if history and history_db:  # seeded once per run, copied for each side
        shutil.copyfile(history_db, work / "watch.duckdb")
    elif history:
        seed_history(work / "watch.duckdb", history)
    with LocalReceiver() as receiver:
        config = write_config(
            work / "watch.yaml",
            db=str(work / "watch.duckdb"),
            paths=[str(logs)],
            notify=[receiver.url()],
            health={"port": port},
            guard=None,
            window_seconds=window_seconds,
            context=context,
        )
        watch = WatchProcess(config, port, env=env).start()
        writer = None
        if rate:
            writer = subprocess.Popen(
                [sys.executable, "-m", "bench.realtime", "--background", str(logs / "bg.jsonl"),
                 str(rate), "36000"],
                stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            time.sleep(3)  # let the load reach its steady state first
        for k in range(incidents):
            records = pocketos_records(variant=k + 1, shift_to=datetime.now(UTC))
            writes: dict[int, float] = {}
            replay(logs, records, speed=20, max_gap=0.02,
                   on_write=lambda r, at, w=writes: w.setdefault(id(r), at))  # fmt: skip
            trigger = min(writes[id(r)] for r in records if r.is_trigger)
            volume = f"{k + 1:08x}"
            got = wait_for(
                lambda v=volume: any(v in a["body"]["title"] for a in receiver.received), 30
            )
            if got is None:
                latencies.append(float("inf"))
                continue
            alert = next(a for a in receiver.received if volume in a["body"]["title"])
            latencies.append(alert["received_monotonic"] - trigger)
        health = watch.health()
        if writer is not None:
            writer.terminate()
            writer.wait()
        time.sleep(1)
        final = watch.health()
        watch.terminate()
        duplicates = len(receiver.received) - incidents
    bg_lines = 0
    if rate and (logs / "bg.jsonl").exists():
        with (logs / "bg.jsonl").open("rb") as fh:
            bg_lines = sum(1 for _ in fh)
    return {
        "rate": rate,
        "window_seconds": window_seconds,
        "context": context,
        "history": history,
        "latencies": latencies,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "max": max(latencies),
        "events_ingested": final[1]["events_ingested"] if final else None,
        "background_written": bg_lines,
        "health_during": health[0] if health else None,
        "extra_alerts": duplicates,
        "loadavg": os.getloadavg()[0],  # the machine is shared: its 1-min load at the end
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=30)
    parser.add_argument("--rates", default="1000,2000")
    parser.add_argument("--background", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--history", type=int, default=300_000)
    parser.add_argument("--side", nargs=6, help=argparse.SUPPRESS)
    parser.add_argument("--seed-history", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.background:
        path, rate, seconds = args.background
        background_writer(Path(path), int(rate), float(seconds))
        return
    if args.seed_history:
        seed_history(Path(args.seed_history[0]), int(args.seed_history[1]))
        print(json.dumps({"seeded": int(args.seed_history[1])}))
        return
    if args.side:
        incidents, rate, window, context, history, history_db = args.side
        result = run_side(
            int(incidents), int(rate), float(window), context, int(history), history_db
        )
        print(json.dumps(result))
        return
    from bench.measure import run_side as in_process

    rates = [int(r) for r in args.rates.split(",") if r]
    history = f"{args.history:,} events of history"
    sides = [("idle", 0, 600.0, "notable", 0)]
    for rate in rates:
        sides += [
            (f"{rate}/s", rate, 600.0, "notable", 0),
            (f"{rate}/s, baseline: whole store", rate, 1e9, "all", 0),
        ]
    if args.history:
        sides += [
            (f"idle, {history}", 0, 600.0, "notable", args.history),
            (f"idle, {history}, baseline: whole store", 0, 1e9, "all", args.history),
        ]
    history_db = ""
    if args.history:
        history_db = str(Path(tempfile.mkdtemp(prefix="bench-history-")) / "history.duckdb")
        in_process("bench.realtime", "--seed-history", history_db, str(args.history))
    results = {}
    for name, rate, window, context, rows in sides:
        results[name] = in_process(
            "bench.realtime", "--side", str(args.incidents), str(rate), str(window), context,
            str(rows), history_db,
        )  # fmt: skip
        r = results[name]
        print(
            f"{name}: p50 {r['p50'] * 1000:.0f} ms, p95 {r['p95'] * 1000:.0f} ms, "
            f"p99 {r['p99'] * 1000:.0f} ms, load {r['loadavg']:.1f}",
            file=sys.stderr,
        )
    rows = []
    for name, r in results.items():
        rows.append(
            f"| {name} | {r['p50'] * 1000:.0f} | {r['p95'] * 1000:.0f} | {r['p99'] * 1000:.0f} "
            f"| {r['max'] * 1000:.0f} "
            f"| {r['background_written']:,} | {r['events_ingested']:,} | {r['extra_alerts']} "
            f"| {r['loadavg']:.1f} |"
        )
    lines = [
        "## Real time: write-to-alert latency of `agentaudit watch`",
        "",
        f"`python -m bench.realtime --incidents {args.incidents} --rates {args.rates} "
        f"--history {args.history}`",
        "",
        f"{args.incidents} PocketOS incidents per row, each a fresh session written in real time into "
        "watched files; latency from the write of the volumeDelete curl to the alert at a "
        "real receiver on 127.0.0.1. Background: benign Cursor hook lines from ten other "
        "sessions appended at the given rate by a separate process.",
        "",
        "| load | p50 ms | p95 ms | p99 ms | max ms | background lines written | events ingested "
        "| notifications beyond one per incident | machine load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
    ]
    for rate in rates:
        inc, base = results[f"{rate}/s"], results[f"{rate}/s, baseline: whole store"]
        lines.append("")
        lines.append(
            f"At {rate}/s: p99 with the recent window is {inc['p99'] / base['p99']:.2f}x the p99 of "
            f"detecting over the whole store on every pass ({inc['p99'] * 1000:.0f} ms vs "
            f"{base['p99'] * 1000:.0f} ms)."
        )
    if args.history:
        inc = results[f"idle, {history}"]
        base = results[f"idle, {history}, baseline: whole store"]
        lines.append("")
        lines.append(
            f"With {history} in the store: p99 with the recent window is "
            f"{inc['p99'] / base['p99']:.2f}x the p99 of detecting over the whole store "
            f"({inc['p99'] * 1000:.0f} ms vs {base['p99'] * 1000:.0f} ms)."
        )
    worst = {name: r["p99"] for name, r in results.items() if "baseline" not in name}
    lines.append("")
    lines.append(
        "Target (p99 under 1 s, also under load): "
        + ("**met**" if max(worst.values()) < 1 else "**not met**")
        + " ("
        + "; ".join(f"{name} {p99 * 1000:,.0f} ms" for name, p99 in worst.items())
        + ")."
    )
    lines.append("")
    lines.append(
        "Notifications beyond one per incident are escalations: the Sigma pack can page an "
        "incident at high (the refused CLI delete) before the behaviours make it critical; "
        "the group is then notified again at once, as critical. Latency counts the first page."
    )
    lines.append("")
    lines.append(
        "Events ingested is the count at the end of the run: below the lines written means "
        "the background file was still being read (a backlog), while the incidents' files, "
        "read first, were paged."
    )
    write_section("realtime", "\n".join(lines))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
