"""CloudTrail ingest vs DuckDB's read_json loading the same delivery-shaped file.

    python -m bench.cloudtrail_ingest [--records N] [--small M]

One generated `{"Records": [...]}` file of N records (default 1,000,000; synthetic, varied
records shaped like real ones: IAM users and assumed roles with access key ids, read calls,
writes and destructive calls with request parameters). Each side runs in its own process on
the same file and ends with the rows in a table of a fresh DuckDB file:

- ours:     `ingest_paths(..., source="aws.cloudtrail", jobs=N)` (N = `--jobs`, default one per
            core): the document cut into chunks collected and enriched (secret redaction,
            catalog, env inference) in N worker processes, appended with dedup on event_id;
- parse:    the collector alone (stream, parse, normalise to canonical events), no store;
- duckdb:   `CREATE TABLE AS SELECT unnest(Records) FROM read_json(file)`.

Peak RSS is measured for each side at two sizes (N and M) to show whether it grows with the
file.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.measure import children_peak_rss_mb, cpu_seconds, peak_rss_mb, run_side
from bench.results import write_section

READS = [
    "DescribeInstances",
    "GetObject",
    "ListBuckets",
    "DescribeDBInstances",
    "GetParameter",
    "AssumeRole",
    "GetCallerIdentity",
    "ListRoles",
    "DescribeVolumes",
    "GetSecretValue",
]
WRITES = [
    ("RunInstances", "ec2"),
    ("PutObject", "s3"),
    ("CreateDBSnapshot", "rds"),
    ("PutParameter", "ssm"),
    ("CreateRole", "iam"),
    ("UpdateFunctionCode20150331v2", "lambda"),
]
DESTROY = [
    (
        "DeleteDBInstance",
        "rds",
        {
            "dBInstanceIdentifier": "orders-prod",
            "skipFinalSnapshot": True,
            "deleteAutomatedBackups": True,
        },
    ),
    ("DeleteBucket", "s3", {"bucketName": "logs-staging-archive"}),
    ("StopLogging", "cloudtrail", {"name": "org-trail"}),
    ("TerminateInstances", "ec2", {"instancesSet": {"items": [{"instanceId": "i-0abc"}]}}),
]
AGENTS = [
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off command/s3.ls",
    "Boto3/1.34.60 Python/3.11.8 Linux/6.5.0 Botocore/1.34.60",
    "APN/1.0 HashiCorp/1.0 Terraform/1.7.4 (+https://www.terraform.io) terraform-provider-aws/5.40.0",
    "aws-cli/2.15.30 app/aa-claude-code-7f3a9c21",
    "console.amazonaws.com",
]


def records(n: int, seed: int = 11):
    rnd = random.Random(seed)
    start = datetime(2026, 4, 24, tzinfo=UTC)
    for i in range(n):
        roll = rnd.random()
        if roll < 0.80:
            name, source, params = rnd.choice(READS), "ec2", {"maxResults": 50}
        elif roll < 0.97:
            (name, source), params = rnd.choice(WRITES), {"name": f"res-{i % 977}"}
        else:
            name, source, params = rnd.choice(DESTROY)
        user = f"user-{i % 37}"
        assumed = i % 3 == 0
        yield {
            "eventVersion": "1.09",
            "userIdentity": {
                "type": "AssumedRole" if assumed else "IAMUser",
                "principalId": f"AIDA{i % 37:016d}",
                "arn": f"arn:aws:sts::111122223333:assumed-role/deploy/{user}"
                if assumed
                else f"arn:aws:iam::111122223333:user/{user}",
                "accountId": "111122223333",
                "accessKeyId": f"{'ASIA' if assumed else 'AKIA'}{i % 37:016d}",
                "userName": user,
                "sessionContext": {
                    "attributes": {
                        "creationDate": "2026-04-24T00:00:00Z",
                        "mfaAuthenticated": "false",
                    }
                },
            },
            "eventTime": (start + timedelta(milliseconds=90 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": f"{source}.amazonaws.com",
            "eventName": name,
            "awsRegion": "us-east-1",
            "sourceIPAddress": f"203.0.113.{i % 200}",
            "userAgent": AGENTS[i % len(AGENTS)],
            "requestParameters": params,
            "responseElements": None,
            "requestID": f"{i:08x}-0000-4000-8000-{rnd.getrandbits(48):012x}",
            "eventID": f"{i:08x}-1111-4000-8000-{rnd.getrandbits(48):012x}",
            "readOnly": roll < 0.80,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": "111122223333",
            "eventCategory": "Management",
            "tlsDetails": {
                "tlsVersion": "TLSv1.3",
                "cipherSuite": "TLS_AES_128_GCM_SHA256",
                "clientProvidedHostHeader": f"{source}.us-east-1.amazonaws.com",
            },
        }


def write_file(n: int, path: Path) -> None:
    with path.open("w") as out:
        out.write('{"Records":[')
        for i, record in enumerate(records(n)):
            out.write(("," if i else "") + json.dumps(record, separators=(",", ":")))
        out.write("]}")


def side_ours(data: Path, db: Path, jobs: int) -> dict:
    from agentaudit.enrich.secrets import Redactor
    from agentaudit.ingest import ingest_paths
    from agentaudit.store import Store

    redactor = Redactor(b"bench-key-0123456789abcdef012345")
    started = time.perf_counter()
    with Store.open(db) as store:
        report = ingest_paths(store, [data], source="aws.cloudtrail", redactor=redactor, jobs=jobs)
        rows = store.count("events")
    assert report.quarantined == 0
    return _result(started, rows, jobs)


def _result(started: float, rows: int, jobs: int = 1) -> dict:
    return {
        "seconds": time.perf_counter() - started,
        "cpu": cpu_seconds(),
        "rows": rows,
        "peak_rss_mb": peak_rss_mb(),
        "worker_peak_rss_mb": children_peak_rss_mb(),
        "jobs": jobs,
    }


def side_parse(data: Path) -> dict:
    from agentaudit.collectors import get_collector
    from agentaudit.collectors.base import SourceInput

    started = time.perf_counter()
    rows = 0
    with data.open("rb") as fh:
        for output in get_collector("aws.cloudtrail").collect(SourceInput(str(data), fh)):
            rows += isinstance(output, dict)
    return _result(started, rows)


def side_duckdb(data: Path, db: Path) -> dict:
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect(str(db))
    size = data.stat().st_size + 1
    con.execute(
        "CREATE TABLE events AS SELECT unnest(Records, recursive := true) "
        f"FROM read_json('{data}', maximum_object_size={size})"
    )
    rows = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    con.close()
    return _result(started, rows)


def _measure(n: int, work: Path, jobs: int) -> dict[str, dict]:
    data = work / f"cloudtrail-{n}.json"
    write_file(n, data)
    out = {"file_mb": data.stat().st_size / 1e6}
    for side in ("duckdb", "parse", "ours"):
        args = ["--side", side, "--data", str(data), "--db", str(work / f"{side}-{n}.duckdb")]
        args += ["--jobs", str(jobs)]
        out[side] = run_side("bench.cloudtrail_ingest", *args)
        assert out[side]["rows"] == n, (side, out[side])
        print(side, n, out[side], file=sys.stderr)
    data.unlink()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=250_000)
    parser.add_argument("--side", choices=["ours", "parse", "duckdb"])
    parser.add_argument("--data")
    parser.add_argument("--db")
    parser.add_argument("--jobs", type=int, default=0, help="ingest worker processes (0: auto)")
    args = parser.parse_args()
    if not args.jobs and args.side in (None, "ours"):  # other sides import nothing of ours
        from agentaudit.ingest.parallel import default_jobs

        args.jobs = default_jobs()
    if args.side:
        data, db = Path(args.data), Path(args.db) if args.db else None
        result = {
            "ours": lambda: side_ours(data, db, args.jobs),
            "parse": lambda: side_parse(data),
            "duckdb": lambda: side_duckdb(data, db),
        }[args.side]()
        print(json.dumps(result))
        return
    import os

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-cloudtrail-") as tmp:
        big = _measure(args.records, Path(tmp), args.jobs)
        small = _measure(args.small, Path(tmp), args.jobs)
    load = (
        f"1-minute load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    )
    write_section("cloudtrail_ingest", _report(args.records, big, args.small, small, load))


NOTES = """Before this change (same command, 2026-11-22 05:16 UTC, one process): full ingest 0.098
of read_json's throughput at 1,000,000 records (312 s) and 0.095 at 250,000; peak RSS 620 and
949 MB (x1.53).

What changed (issue 4 fast path, docs/ARCHITECTURE.md "Ingest fast path"):
(1) the secret prefilter masks the value of `accessKeyId` JSON fields before its RE2 pass (an
AWS access key id there is an identifier, kept in `credential_id`; anywhere else it is still a
secret, and the secret access key and session tokens beside it are still redacted:
`tests/test_secrets_key_id.py`), so these records no longer all go through the full
detect-secrets scan; enrichment fell from 188 us to 5 us a record; (2) `--jobs`: the Records
array is cut into 8 MB chunks that worker processes collect and enrich, the parent appends
their Arrow tables, gathered to 48 MB per statement, with the same anti-join on event_id; (3)
DuckDB's buffer pool is held to 256 MB during the ingest and the store is checkpointed inside
that limit.

Where the time goes now, per record, measured in one process on 20,000 of the same records
(`collect + enrich` path, load average 5): the collector 46 us (ijson's C parser about 7 us of
it, building the canonical event, `raw` serialisation, environment inference the rest), the
secret prefilter 14 us, enrichment 5 us, Arrow conversion 7 us, the store append 13 us. In a
100,000-record parallel run (2 workers, load average 5) the workers used 13.1 CPU-s and the
parent 2.9 CPU-s (its DuckDB appends), i.e. the workers' collect + prefilter + enrich, at about
75 us a record in one process and more when two run on this machine's 2 shared vCPUs, set the
pace; read_json parses in C++ at about 35 us of CPU a record. read_json holds the single
document in memory, hence its memory; ours streams the file in chunks (at most 2 x jobs in
flight) and appends at most 48 MB at a time.

Since (2026-11-22, 1M records 0.253 at load 4-6): each 8 MB chunk is decoded whole with msgspec
instead of ijson's item stream, the secret prefilter is one warm google-re2 per process, the
access-key-id mask is applied only where the literal is, `raw` is stored with zstd, and the
parent appends on one DuckDB thread with a checkpoint every 100,000 events. In one process, on
50,000 of these records: collect 34 us, prefilter 9, enrichment 4, Arrow 7 a record (was 46, 14,
5, 7)."""


def _verdict(n: int, big: dict) -> str:
    wall = big["duckdb"]["seconds"] / big["ours"]["seconds"]
    cpu = big["duckdb"]["cpu"] / big["ours"]["cpu"]
    met = "met" if wall >= 0.5 else "not met"
    return (
        f"Target (at least half of read_json's throughput, by wall time) at {n:,} records: "
        f"**{met}** ({wall:.2f}; by CPU time {cpu:.2f}). Ours used "
        f"{big['ours']['cpu'] / n * 1e6:.0f} us of CPU a record (workers and parent) against "
        f"read_json's {big['duckdb']['cpu'] / n * 1e6:.0f} us; read_json parses this one document "
        "on one thread, ours spreads it over the worker processes."
    )


def _report(n: int, big: dict, m: int, small: dict, load: str = "") -> str:
    def rate(side: dict, rows: int) -> float:
        return rows / side["seconds"]

    lines = [
        "## CloudTrail ingest vs DuckDB read_json (`python -m bench.cloudtrail_ingest`)",
        "",
        f'Same generated `{{"Records": [...]}}` file; {n:,} records ({big["file_mb"]:.0f} MB) and '
        f"{m:,} records ({small['file_mb']:.0f} MB). Each side in its own process.",
        "",
        "| side | records | wall s | CPU s | records/s | ratio to read_json (wall) | "
        "ratio (CPU) | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for rows, result in ((n, big), (m, small)):
        base = rate(result["duckdb"], rows)
        for side, label in (
            ("duckdb", "DuckDB read_json (baseline)"),
            ("parse", "agentaudit collector only (stream, parse, normalise; 1 process)"),
            (
                "ours",
                f"agentaudit ingest, --jobs {result['ours']['jobs']} (collect + enrich + store)",
            ),
        ):
            r = result[side]
            memory = f"{r['peak_rss_mb']:.0f}"
            if r.get("worker_peak_rss_mb"):
                memory += f" + {r['jobs']} workers x {r['worker_peak_rss_mb']:.0f}"
            lines.append(
                f"| {label} | {rows:,} | {r['seconds']:.1f} | {r['cpu']:.1f} | "
                f"{rate(r, rows):,.0f} | {rate(r, rows) / base:.3f} | "
                f"{result['duckdb']['cpu'] / r['cpu']:.3f} | {memory} |"
            )
    growth = {
        side: big[side]["peak_rss_mb"] / small[side]["peak_rss_mb"]
        for side in ("duckdb", "parse", "ours")
    }
    workers = big["ours"]["worker_peak_rss_mb"] / max(small["ours"]["worker_peak_rss_mb"], 1)
    lines += [
        "",
        f"Peak memory, {n:,} vs {m:,} records ({n / m:.0f}x the file): read_json x{growth['duckdb']:.2f}, "
        f"collector x{growth['parse']:.2f}, full ingest x{growth['ours']:.2f} (parent) and "
        f"x{workers:.2f} (largest worker). Peak RSS is per process (ru_maxrss); a worker's "
        "includes pages shared with the parent at fork, so parent + workers overstates the total.",
        "CPU s counts the process and its worker processes (RUSAGE_SELF + RUSAGE_CHILDREN).",
        "",
        _verdict(n, big),
        "",
        f"The machine is shared (2 cores): {load}." if load else "",
        "",
        NOTES,
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
