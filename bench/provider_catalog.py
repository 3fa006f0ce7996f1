"""The AWS catalog's first classification in a fresh process: the checked-in table generated from
botocore, against reading botocore's service models at run time (what the table replaces).

`python -m bench.provider_catalog [--runs N]` runs each side N times, interleaved, each in its
own process; every side classifies the same 20 CloudTrail calls. Floor: `python -c pass`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from bench.results import write_section

CALLS = (
    "DeleteBucket DeleteDBInstance DescribeInstances StopLogging DeleteRole PutObject "
    "TerminateInstances DeleteSnapshot ListBuckets GetObject DeleteSubnet UpdateService "
    "DeleteDetector CreateBucket AssumeRole DeleteListener DeleteDBSubnetGroup DeleteTags "
    "ScheduleKeyDeletion DeleteAutoScalingGroup"
)
REPORT = (
    "import resource,sys; sys.stdout.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))"
)
SIDES = {
    "floor: `python -c pass`": "pass",
    "checked-in table (ours)": (
        "from agentaudit.enrich.catalog import aws\n"
        f"[aws.classify(n, {{}}) for n in {CALLS!r}.split()]"
    ),
    "botocore models at run time (baseline)": (
        "from agentaudit.enrich.catalog import aws_model\n"
        "table = aws_model.build()\n"
        f"[table['operations']['s3'].get(n) for n in {CALLS!r}.split()]"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    seconds: dict[str, list[float]] = {name: [] for name in SIDES}
    rss: dict[str, list[int]] = {name: [] for name in SIDES}
    for _ in range(args.runs):
        for name, code in SIDES.items():
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", code + "\n" + REPORT],
                check=True,
                capture_output=True,
                text=True,
            )
            seconds[name].append(time.perf_counter() - started)
            rss[name].append(int(done.stdout.strip().splitlines()[-1]))
    ours = statistics.median(seconds["checked-in table (ours)"])
    rows = [
        f"| {name} | {statistics.median(values) * 1000:.0f} | "
        f"{statistics.median(rss[name]) / 1024:.0f} | {statistics.median(values) / ours:.2f}x |"
        for name, values in seconds.items()
    ]
    baseline = statistics.median(seconds["botocore models at run time (baseline)"])
    body = f"""## Provider catalog: botocore-derived table vs botocore at run time (issue 19)

`python -m bench.provider_catalog --runs {args.runs}`: a fresh process imports the catalog and
classifies 20 CloudTrail eventNames; the baseline loads all of botocore's service models and
derives the verdicts as the generator does. Runs interleaved, medians.

| side | median ms | peak RSS MB | × ours |
|---|---:|---:|---:|
{chr(10).join(rows)}

**botocore at run time / checked-in table: {baseline / ours:.1f}x** wall time per process (load
average {os.getloadavg()[0]:.1f} on the shared machine during the run).
"""
    write_section("provider_catalog", body)
    sys.stdout.write(body)


if __name__ == "__main__":
    main()
