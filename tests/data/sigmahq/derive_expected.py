"""Derive tests/data/sigmahq/expected.yaml: which corpus records each SigmaHQ rule matches.

Ground truth independent of agentaudit (nothing here imports it, nor pySigma): a small Sigma
evaluator (the subset of the Sigma 2.0 spec these rules use: field maps and lists, keywords,
modifiers contains/startswith/endswith/all/re/cased/exists/windash, wildcards `*` `?`, null,
conditions with and/or/not, parentheses, `1 of`/`all of` patterns and `them`) run over the
records of the corpus, with the field mapping from SigmaHQ's field names to each file's own
keys written out below (FIELD_MAPS). Every match it reports was also checked by hand against
the rule and the record; see EXPECTED.md.

    python tests/data/sigmahq/derive_expected.py [--corpus ../shared/corpus] [--write]

Without --write it prints the table; with --write it rewrites expected.yaml beside it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shlex
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]


def _scenarios_dir() -> Path:
    """agentaudit/scenarios, or wherever a package move put it (the folder holding pocketos/)."""
    default = REPO / "agentaudit" / "scenarios"
    if default.is_dir():
        return default
    found = sorted(REPO.glob("agentaudit/**/scenarios/pocketos"))
    return found[0].parent if found else default


SCENARIOS = _scenarios_dir()

# -- records ------------------------------------------------------------------------------


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                yield n, json.loads(line)


def cloudtrail_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(record id, CloudTrail record) from a Records file, a lookup-events file or tests."""
    name = path.name
    if name.endswith(".json.gz"):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            doc = json.load(f)
    elif name.endswith(".jsonl"):
        for n, row in _lines(path):
            if "log" in row:  # panther tests: {panther_rule_id, test_name, expected_alert, log}
                yield f"line {n}", row["log"]
            else:  # `aws cloudtrail lookup-events`: the record is the CloudTrailEvent string
                yield f"line {n}", json.loads(row["CloudTrailEvent"])
        return
    else:
        doc = json.loads(path.read_text(encoding="utf-8"))
    for rec in doc["Records"]:
        yield rec["eventID"], rec


def jsonl_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for n, row in _lines(path):
        yield f"line {n}", row.get("log", row) if "panther_rule_id" in row else row


def history_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Shell history entries as process-creation-like records {CommandLine}.

    zsh EXTENDED_HISTORY (': <epoch>:<dur>;cmd', a trailing backslash continues the entry),
    bash with '#<epoch>' lines (an entry runs until the next '#<epoch>'), else one line each.
    The id is the entry's first line number.
    """
    raw = path.read_bytes().decode("utf-8", "replace")
    lines = raw.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    zsh = re.compile(r"^: (-?\d+):(-?\d+);(.*)$")
    if any(zsh.match(ln) for ln in lines[:5]):
        i = 0
        while i < len(lines):
            m = zsh.match(lines[i])
            if not m:
                i += 1
                continue
            start, parts = i + 1, [m.group(3)]
            while parts[-1].endswith("\\") and i + 1 < len(lines) and not zsh.match(lines[i + 1]):
                i += 1
                parts.append(lines[i])
            yield f"line {start}", {"CommandLine": "\n".join(parts)}
            i += 1
        return
    stamp = re.compile(r"^#\d+$")
    if any(stamp.match(ln) for ln in lines[:5]):
        entry: list[str] = []
        start = 0
        for n, ln in enumerate(lines, 1):
            if stamp.match(ln):
                if entry:
                    yield f"line {start}", {"CommandLine": "\n".join(entry).rstrip("\n")}
                entry, start = [], n + 1
            else:
                entry.append(ln)
        if entry:
            yield f"line {start}", {"CommandLine": "\n".join(entry).rstrip("\n")}
        return
    for n, ln in enumerate(lines, 1):
        if ln.strip():
            yield f"line {n}", {"CommandLine": ln}


# -- field mapping per corpus file shape -----------------------------------------------------
# SigmaHQ field name -> a function of the record giving the value(s) (None = absent).


def path_get(rec: Any, dotted: str) -> Any:
    """Nested lookup; a literal key containing dots wins; lists yield every element's value."""
    if isinstance(rec, dict) and dotted in rec:
        return rec[dotted]
    head, _, rest = dotted.partition(".")
    if isinstance(rec, list):
        vals = [path_get(x, dotted) for x in rec]
        flat: list[Any] = []
        for v in vals:
            if isinstance(v, list):
                flat += v
            elif v is not None:
                flat.append(v)
        return flat or None
    if not isinstance(rec, dict) or head not in rec:
        return None
    return path_get(rec[head], rest) if rest else rec[head]


Getter = Callable[[dict[str, Any], str], Any]


def direct(rec: dict[str, Any], field: str) -> Any:
    return path_get(rec, field)


def gcp_logentry(rec: dict[str, Any], field: str) -> Any:
    # SigmaHQ GCP rules use Elastic's `gcp.audit.*` names and a Pub/Sub `data.` prefix;
    # a Cloud Logging LogEntry has protoPayload.methodName etc.
    if field == "gcp.audit.method_name":
        return path_get(rec, "protoPayload.methodName")
    if field.startswith("data.protoPayload."):
        return path_get(rec, field[len("data.") :])
    return path_get(rec, field)


def azure_sdk(rec: dict[str, Any], field: str) -> Any:
    # Azure Python SDK activity-log shape (plaso): operation_name.value, snake_case keys.
    if field in ("operationName", "OperationNameValue"):
        return path_get(rec, "operation_name.value")
    return path_get(rec, field)


def shell_history(rec: dict[str, Any], field: str) -> Any:
    # A history line has only the command as typed. CommandLine is that text; Image is the
    # typed executable (first word after VAR=value assignments) reduced to '/<basename>', so
    # SigmaHQ's `Image|endswith: '/rm'` matches `rm ...`; an exact-path Image never matches.
    if field == "Image":
        text = rec["CommandLine"]
        try:
            words = shlex.split(text, posix=True)
        except ValueError:
            words = text.split()
        while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
            words = words[1:]
        return "/" + words[0].rsplit("/", 1)[-1] if words else None
    return path_get(rec, field)


FIELD_MAPS: dict[str, Getter] = {
    "direct": direct,
    "shell_history": shell_history,
    "gcp_logentry": gcp_logentry,
    "azure_sdk": azure_sdk,
}

# logsource (product, service/category) -> [(corpus-relative file, reader, field map)]
SOURCES: dict[tuple[str, str], list[tuple[str, Callable[[Path], Iterator], str]]] = {
    ("aws", "cloudtrail"): [
        ("cloudtrail/invictus-stratus-2023-07-10.json.gz", cloudtrail_records, "direct"),
        ("cloudtrail/invictus-stratus-teardown-1235Z.json", cloudtrail_records, "direct"),
        ("cloudtrail/stratus-detonation-logs.json", cloudtrail_records, "direct"),
        ("cloudtrail/plaso-lookup-events.jsonl", cloudtrail_records, "direct"),
        ("cloudtrail/panther-destructive-tests.jsonl", cloudtrail_records, "direct"),
        (
            "scenarios/amazon-q-wiper/cloudtrail-111122223333-444455556666.json",
            cloudtrail_records,
            "direct",
        ),
        (
            "scenarios/claude-code-terraform/cloudtrail-210987654321-eu-west-1.json",
            cloudtrail_records,
            "direct",
        ),
    ],
    ("gcp", "gcp.audit"): [
        ("gcp/plaso-gcp-logging.jsonl", jsonl_records, "gcp_logentry"),
        ("gcp/csa-fixtures.jsonl", jsonl_records, "gcp_logentry"),
        ("gcp/panther-destructive-tests.jsonl", jsonl_records, "gcp_logentry"),
    ],
    ("azure", "activitylogs"): [
        ("azure/plaso-azure-activity.jsonl", jsonl_records, "azure_sdk"),
        ("azure/panther-destructive-tests.jsonl", jsonl_records, "direct"),
    ],
    ("kubernetes", "audit"): [
        ("k8s/falco-k8s-audit.jsonl", jsonl_records, "direct"),
        ("k8s/panther-k8s-tests.jsonl", jsonl_records, "direct"),
    ],
    ("github", "audit"): [
        ("github/sentinel-github-audit-subset.jsonl", jsonl_records, "direct"),
        ("github/panther-github-tests.jsonl", jsonl_records, "direct"),
    ],
    ("linux", "process_creation"): [
        (f, history_records, "shell_history")
        for f in (
            "bash/plaso-bash_history",
            "bash/plaso-bash_history_desync",
            "bash/histutils-sh_history",
            "bash/generated-bash5-histtimeformat-lithist_history",
            "bash/generated-bash5-plain-lithist_history",
            "zsh/plaso-zsh_extended_history.txt",
            "zsh/histutils-zsh_common_history",
            "zsh/histutils-zsh_duration_history",
            "zsh/generated-zsh5.9-extended-history-metafied",
            "scenarios/amazon-q-wiper/zsh_history",
            "scenarios/claude-code-terraform/zsh_history",
            "scenarios/gemini-mkdir-move/zsh_history",
            "scenarios/home-rm-rf/zsh_history",
            "scenarios/pocketos/zsh_history",
        )
    ],
}


def logsource_key(rule: dict[str, Any]) -> tuple[str, str]:
    ls = rule.get("logsource", {})
    return (ls.get("product", ""), ls.get("service") or ls.get("category", ""))


# -- the Sigma evaluator ------------------------------------------------------------------


def _wildcard_regex(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value) and value[i + 1] in "*?\\":
            out.append(re.escape(value[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    return "".join(out)


def _windash(value: str) -> list[str]:
    dashes = ["-", "/", "\u2013", "\u2014", "\u2015"]
    if "-" not in value:
        return [value]
    return [value.replace("-", d) for d in dashes]


def _as_strings(v: Any) -> list[str]:
    if v is None:
        return []
    if isinstance(v, list):
        out: list[str] = []
        for x in v:
            out += _as_strings(x)
        return out
    if isinstance(v, bool):
        return ["true" if v else "false"]
    if isinstance(v, dict):
        return [json.dumps(v, sort_keys=True)]
    return [str(v)]


def match_field(actual: Any, key: str, expected: Any) -> bool:
    _field, *mods = key.split("|")
    values = expected if isinstance(expected, list) else [expected]
    if "exists" in mods:
        return (actual is not None) == bool(values[0])
    if values == [None]:
        # null: the field is absent or JSON null (as SQL backends' IS NULL); "" is a value
        return actual is None
    texts = _as_strings(actual)
    if not texts:
        return False
    if "all" in mods:
        return all(_one(texts, v, mods) for v in values)
    return any(_one(texts, v, mods) for v in values)


def _one(texts: list[str], value: Any, mods: list[str]) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        value = "true" if value else "false"
    value = str(value)
    if "re" in mods:
        flags = (re.I if "i" in mods else 0) | (re.M if "m" in mods else 0)
        flags |= re.S if "s" in mods else 0
        return any(re.search(value, t, flags) for t in texts)
    candidates = _windash(value) if "windash" in mods else [value]
    for cand in candidates:
        pat = _wildcard_regex(cand)
        if "contains" in mods:
            pat = f".*{pat}.*"
        elif "startswith" in mods:
            pat = f"{pat}.*"
        elif "endswith" in mods:
            pat = f".*{pat}"
        flags = re.S | (0 if "cased" in mods else re.I)
        if any(re.fullmatch(pat, t, flags) for t in texts):
            return True
    return False


def _all_text(rec: Any) -> list[str]:
    if isinstance(rec, dict):
        out: list[str] = []
        for v in rec.values():
            out += _all_text(v)
        return out
    if isinstance(rec, list):
        out = []
        for v in rec:
            out += _all_text(v)
        return out
    return _as_strings(rec)


def match_search(rec: dict[str, Any], get: Getter, search: Any) -> bool:
    if isinstance(search, dict):
        return all(match_field(get(rec, k.split("|")[0]), k, v) for k, v in search.items())
    if isinstance(search, list):
        if all(isinstance(x, dict) for x in search):
            return any(match_search(rec, get, x) for x in search)
        texts = _all_text(rec)  # keywords: any string anywhere in the record
        return any(_one(texts, k, ["contains"]) for k in search)
    raise ValueError(f"unsupported search {search!r}")


def evaluate(rule: dict[str, Any], rec: dict[str, Any], get: Getter) -> bool:
    det = rule["detection"]
    searches = {k: v for k, v in det.items() if k not in ("condition", "timeframe")}
    conds = det["condition"] if isinstance(det["condition"], list) else [det["condition"]]
    cache: dict[str, bool] = {}

    def hit(name: str) -> bool:
        if name not in cache:
            cache[name] = match_search(rec, get, searches[name])
        return cache[name]

    return any(_Cond(c, list(searches), hit).parse() for c in conds)


class _Cond:
    TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z0-9_*]+)")

    def __init__(self, text: str, names: list[str], hit: Callable[[str], bool]) -> None:
        self.toks = self.TOKEN.findall(text)
        self.pos, self.names, self.hit = 0, names, hit

    def peek(self) -> str | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> str:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def parse(self) -> bool:
        val = self.or_()
        if self.peek() is not None:
            raise ValueError(f"trailing tokens in condition: {self.toks[self.pos :]}")
        return val

    def or_(self) -> bool:
        val = self.and_()
        while self.peek() == "or":
            self.take()
            rhs = self.and_()
            val = val or rhs
        return val

    def and_(self) -> bool:
        val = self.not_()
        while self.peek() == "and":
            self.take()
            rhs = self.not_()
            val = val and rhs
        return val

    def not_(self) -> bool:
        if self.peek() == "not":
            self.take()
            return not self.not_()
        return self.atom()

    def atom(self) -> bool:
        tok = self.take()
        if tok == "(":
            val = self.or_()
            assert self.take() == ")"
            return val
        if tok in ("1", "all", "any") and self.peek() == "of":
            self.take()
            pattern = self.take()
            if pattern == "them":
                names = [n for n in self.names if not n.startswith("_")]
            else:
                names = [n for n in self.names if re.fullmatch(_wildcard_regex(pattern), n)]
            results = [self.hit(n) for n in names]
            return all(results) if tok == "all" else any(results)
        return self.hit(tok)


# -- driver ---------------------------------------------------------------------------------


def corpus_path(corpus: Path, rel: str) -> Path:
    if rel.startswith("scenarios/"):
        return SCENARIOS / rel[len("scenarios/") :]
    return corpus / rel


def derive(corpus: Path, rules_dir: Path) -> list[dict[str, Any]]:
    results = []
    for rule_path in sorted(rules_dir.glob("*.yml")):
        rule = yaml.safe_load(rule_path.read_text(encoding="utf-8"))
        key = logsource_key(rule)
        entry: dict[str, Any] = {
            "rule": rule_path.name,
            "id": rule["id"],
            "title": rule["title"],
            "logsource": f"{key[0]}/{key[1]}",
            "matches": {},
        }
        for rel, reader, fmap in SOURCES.get(key, []):
            path = corpus_path(corpus, rel)
            if not path.exists():
                raise FileNotFoundError(path)
            get = FIELD_MAPS[fmap]
            hits = [rid for rid, rec in reader(path) if evaluate(rule, rec, get)]
            if hits:
                entry["matches"][rel] = hits
        entry["total"] = sum(len(v) for v in entry["matches"].values())
        results.append(entry)
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_corpus = os.environ.get("AGENTAUDIT_CORPUS", str(REPO.parent / "shared" / "corpus"))
    ap.add_argument("--corpus", type=Path, default=Path(default_corpus))
    ap.add_argument("--rules", type=Path, default=HERE / "rules")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args(argv)
    results = derive(args.corpus, args.rules)
    for r in results:
        print(f"{r['total']:4d}  {r['rule']}")
        for rel, hits in r["matches"].items():
            print(f"        {rel}: {', '.join(hits[:12])}{' ...' if len(hits) > 12 else ''}")
    if args.write:
        out = HERE / "expected.yaml"
        header = (
            "# Generated by derive_expected.py (then checked by hand; see EXPECTED.md).\n"
            "# For each SigmaHQ rule in rules/: the corpus records it should match.\n"
            "# Record ids: CloudTrail eventID for Records files; 'line N' (1-based) for JSONL\n"
            "# files and for shell histories (the entry's first line). 'scenarios/...' paths\n"
            "# are agentaudit/scenarios/...; the others are relative to the corpus directory.\n"
        )
        out.write_text(header + yaml.safe_dump({"rules": results}, sort_keys=False, width=100))
        print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
