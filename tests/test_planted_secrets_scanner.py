"""The planted-secrets corpus (`tests/planted_secrets.py`) and its scanners, tested on their own.

These tests do not run agentaudit: they check that the shapes are the real shapes, that the
written inputs carry every shape many times in real formats, and that `scan_store` finds a
value wherever DuckDB keeps it (list, struct, map, compressed text) while a byte search of the
`.duckdb` file does not.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import zlib

import duckdb
import pytest

from tests.planted_secrets import (
    CARRIERS,
    SHAPES,
    SHAPES_BY_NAME,
    count_occurrences,
    needles,
    scan_bytes,
    scan_paths,
    scan_store,
    write_sources,
)

GH = SHAPES_BY_NAME["github_pat_classic"]
PEM = SHAPES_BY_NAME["pem_rsa_private_key"]

# Each format's published pattern (gitleaks cmd/generate/config/rules/*.go unless noted): the
# fake values must match them exactly, or a redactor tested on them proves nothing.
PATTERNS = {
    "aws_access_key_id": r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}",
    "aws_secret_access_key": r"[A-Za-z0-9/+=]{40}",
    "github_pat_classic": r"ghp_[0-9a-zA-Z]{36}",
    "github_oauth_token": r"gho_[0-9a-zA-Z]{36}",
    "github_user_to_server": r"ghu_[0-9a-zA-Z]{36}",
    "github_server_to_server": r"ghs_[0-9a-zA-Z]{36}",
    "github_refresh_token": r"ghr_[0-9a-zA-Z]{36}",
    "github_pat_fine_grained": r"github_pat_[0-9a-zA-Z]{22}_[0-9a-zA-Z]{59}",
    "gitlab_pat": r"glpat-[\w-]{20}",
    "slack_bot_token": r"xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]*",
    "slack_user_token": r"xox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34}",
    "slack_webhook_url": r"https://hooks\.slack\.com/services/T[A-Z0-9]{8,10}/B[A-Z0-9]{8,10}/[a-zA-Z0-9]{24}",
    "stripe_secret_key": r"sk_live_[a-zA-Z0-9]{10,99}",
    "stripe_restricted_key": r"rk_live_[a-zA-Z0-9]{10,99}",
    "openai_project_key": r"sk-proj-[A-Za-z0-9_-]{74}T3BlbkFJ[A-Za-z0-9_-]{74}",
    "openai_legacy_key": r"sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20}",
    "anthropic_api_key": r"sk-ant-api03-[a-zA-Z0-9_\-]{93}AA",
    "google_api_key": r"AIza[\w-]{35}",
    "google_oauth_access_token": r"ya29\.[0-9A-Za-z_-]+",
    "azure_storage_account_key": r"[A-Za-z0-9+/]{86}==",
    "jwt_hs256": r"ey[a-zA-Z0-9]{17,}\.ey[a-zA-Z0-9/\\_-]{17,}\.[a-zA-Z0-9/\\_-]{10,}",
    "kubeconfig_token": r"ey[a-zA-Z0-9_-]{17,}\.ey[a-zA-Z0-9_-]{17,}\.[a-zA-Z0-9_-]{10,}",
    "supabase_access_token": r"sbp_[a-f0-9]{40}",  # supabase CLI's own check
    "heroku_api_key": r"HRKU-AA[0-9a-zA-Z_-]{58}",
    "fly_access_token": r"fo1_[\w-]{43}",
    "vercel_token": r"[a-zA-Z0-9]{24}",  # trufflehog vercel detector
    "cloudflare_api_token": r"[\w-]{40}",
    "npm_token": r"npm_[A-Za-z0-9]{36}",
    "pypi_token": r"pypi-AgEIcHlwaS5vcmc[\w-]{50,1000}",
    "vault_service_token": r"hvs\.[\w-]{90,120}",
    "twilio_api_key": r"SK[0-9a-fA-F]{32}",
    "twilio_auth_token": r"[0-9a-f]{32}",
    "sendgrid_api_key": r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",
    "datadog_api_key": r"[0-9a-f]{32}",
    "railway_account_token": r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
    "railway_project_token": r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
    "ini_token_uuid": r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
    "azure_sas_signature": r"[A-Za-z0-9]{43}%3D",
}
PEM_HEADS = {
    "pem_rsa_private_key": ("RSA PRIVATE KEY", "MIIEowIBAAKCAQEA"),
    "pem_ec_private_key": ("EC PRIVATE KEY", "MHcCAQEEI"),
    "pem_openssh_private_key": ("OPENSSH PRIVATE KEY", "b3BlbnNzaC1rZXktdjEAAAAA"),
    "gcp_service_account_key": ("PRIVATE KEY", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
}
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


# -- shapes -------------------------------------------------------------------------------------


def test_at_least_thirty_distinct_shapes_with_distinct_values():
    assert len(SHAPES) >= 30
    assert len({s.name for s in SHAPES}) == len(SHAPES)
    assert len({s.value for s in SHAPES}) == len(SHAPES)
    assert all(s.source for s in SHAPES)


@pytest.mark.parametrize(("name", "pattern"), sorted(PATTERNS.items()))
def test_value_matches_the_published_pattern_exactly(name, pattern):
    assert re.fullmatch(pattern, SHAPES_BY_NAME[name].value)


@pytest.mark.parametrize("name", ["github_pat_classic", "github_oauth_token", "npm_token"])
def test_github_style_tokens_carry_a_valid_crc32_checksum(name):
    value = SHAPES_BY_NAME[name].value
    body, check = value[4:-6], value[-6:]
    decoded = 0
    for char in check:
        decoded = decoded * 62 + _BASE62.index(char)
    assert decoded == zlib.crc32(body.encode())


@pytest.mark.parametrize(("name", "head"), sorted(PEM_HEADS.items()))
def test_pem_keys_have_real_headers_bodies_and_der_heads(name, head):
    kind, der_head = head
    lines = SHAPES_BY_NAME[name].value.splitlines()
    assert lines[0] == f"-----BEGIN {kind}-----"
    assert lines[-1] == f"-----END {kind}-----"
    body = lines[1:-1]
    width = 70 if "OPENSSH" in kind else 64
    assert all(len(line) == width for line in body[:-1]) and 0 < len(body[-1]) <= width
    assert body[0].startswith(der_head)
    base64.b64decode("".join(body), validate=True)


def test_jwt_parts_decode_to_json_header_and_claims():
    header, claims, _sig = SHAPES_BY_NAME["jwt_hs256"].value.split(".")
    pad = lambda part: part + "=" * (-len(part) % 4)  # noqa: E731
    assert json.loads(base64.urlsafe_b64decode(pad(header)))["alg"] == "HS256"
    assert "sub" in json.loads(base64.urlsafe_b64decode(pad(claims)))


def test_docker_auth_and_kube_key_data_decode_like_the_real_files():
    user, password = (
        base64.b64decode(SHAPES_BY_NAME["docker_config_auth"].value).decode().split(":")
    )
    assert user and len(password) >= 12
    pem = base64.b64decode(SHAPES_BY_NAME["kubeconfig_client_key_data"].value).decode()
    assert pem.startswith("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI")


def test_needles_are_distinctive_and_long_enough():
    found = needles(SHAPES)
    assert set(found) == {s.name for s in SHAPES}
    for name, items in found.items():
        assert items and all(len(n) >= 12 for n in items), name
    everything = [n for items in found.values() for n in items]
    for name, items in found.items():  # no needle of one shape occurs in another shape's value
        for other in SHAPES:
            if other.name != name and not (name.startswith("aws") and other.name.startswith("aws")):
                assert not any(n in other.value for n in items), (name, other.name)
    assert len(everything) == len(set(everything))
    # a PEM whose header line alone is replaced is still found: its body lines are needles
    assert any(n.startswith("MIIEowIBAAKCAQEA") for n in found[PEM.name])


def test_values_are_the_same_on_every_import():
    import importlib

    import tests.planted_secrets as module

    before = {s.name: s.value for s in module.SHAPES}
    again = importlib.reload(module)
    assert {s.name: s.value for s in again.SHAPES} == before


# -- carriers -----------------------------------------------------------------------------------


def test_carriers_cover_every_place_the_brief_names():
    groups = {c.group for c in CARRIERS.values()}
    assert groups == {
        "command",
        "prompt",
        "tool_input",
        "tool_result",
        "provider",
        "otlp",
        "malformed",
    }
    assert {
        "command_argument",
        "command_env",
        "command_header",
        "command_url",
        "command_heredoc",
        "write_content",
        "file_ini",
        "file_dotenv",
        "file_yaml",
        "file_json",
        "file_netrc",
        "file_native",
        "file_pem",
        "cloudtrail_user_agent",
        "cloudtrail_request_parameters",
        "github_user_agent",
        "otlp_attributes",
        "malformed_line",
    } <= set(CARRIERS)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_every_applicable_carrier_carries_the_value(shape):
    applied = [c for c in CARRIERS.values() if c.applies(shape)]
    assert len(applied) >= 8
    for carrier in applied:
        rendered = carrier.render(shape)
        text = json.dumps(rendered) if not isinstance(rendered, str) else rendered
        if carrier.group in ("provider", "otlp", "malformed"):
            assert any(n in text or json.dumps(n)[1:-1] in text for n in shape.needles()), (
                carrier.name
            )
        else:
            assert any(n in text for n in shape.needles()), carrier.name


def test_native_files_are_the_real_file_formats():
    aws = CARRIERS["file_native"].render(SHAPES_BY_NAME["aws_secret_lowercase_ini"])
    assert aws[0] == "~/.aws/credentials" and "\naws_secret_access_key = " in aws[1]
    docker = CARRIERS["file_native"].render(SHAPES_BY_NAME["docker_config_auth"])
    assert (
        json.loads(docker[1])["auths"]["ghcr.io"]["auth"]
        == SHAPES_BY_NAME["docker_config_auth"].value
    )
    gcp = CARRIERS["file_native"].render(SHAPES_BY_NAME["gcp_service_account_key"])
    assert json.loads(gcp[1])["private_key"].startswith("-----BEGIN PRIVATE KEY-----\n")
    assert json.loads(gcp[1])["type"] == "service_account"
    netrc = CARRIERS["file_native"].render(SHAPES_BY_NAME["github_pat_fine_grained"])
    assert netrc[0] == "~/.netrc" and "password github_pat_" in netrc[1]
    gh = CARRIERS["file_native"].render(GH)
    assert gh[0] == "~/.config/gh/hosts.yml" and f"oauth_token: {GH.value}" in gh[1]
    kube = CARRIERS["file_native"].render(SHAPES_BY_NAME["kubeconfig_client_key_data"])
    assert "client-key-data: LS0tLS1CRUdJTi" in kube[1]
    mysql = CARRIERS["command_argument"].render(SHAPES_BY_NAME["mysql_p_flag"])
    assert f" -p{SHAPES_BY_NAME['mysql_p_flag'].value} " in mysql
    assert (
        CARRIERS["command_env"].render(SHAPES_BY_NAME["pgpassword_env"]).startswith("PGPASSWORD=")
    )


# -- written sources ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    return root, write_sources(root)


def test_sources_cover_every_format(sources):
    root, paths = sources
    names = {p.relative_to(root).parts[0] for p in paths}
    assert names == {
        "claude-code",
        "hooks",
        "codex",
        "gemini",
        "shell",
        "cloudtrail",
        "github",
        "otlp",
        "malformed",
    }
    assert len(list((root / "malformed").iterdir())) >= 9
    assert sum(p.stat().st_size for p in paths) < 8_000_000


def test_every_shape_appears_many_times_and_in_every_agent_format(sources):
    root, paths = sources
    agent_files = [
        p
        for p in paths
        if p.relative_to(root).parts[0] in ("claude-code", "hooks", "codex", "gemini")
    ]
    for shape in SHAPES:
        assert count_occurrences(paths, shape) >= 30, shape.name
        for path in agent_files:
            assert count_occurrences([path], shape) >= 5, (shape.name, path.name)
        shell = [root / "shell/bash_history", root / "shell/zsh_history"]
        assert count_occurrences(shell, shape) >= 4, shape.name


def test_every_shape_is_in_provider_records_otlp_and_a_malformed_line(sources):
    root, _paths = sources
    provider = [root / "cloudtrail" / p.name for p in (root / "cloudtrail").iterdir()]
    otlp = [root / "otlp/claude-code-logs.json"]
    malformed = sorted((root / "malformed").iterdir())
    bad_line = (root / "malformed/claude-code-transcript.jsonl").read_text().splitlines()[1]
    for shape in SHAPES:
        assert count_occurrences(provider, shape) >= 1, shape.name
        assert count_occurrences(otlp, shape) >= 1, shape.name
        assert any(json.dumps(n)[1:-1] in bad_line for n in shape.needles()), shape.name
    assert scan_paths(malformed, SHAPES)


def test_sources_are_valid_in_their_formats(sources):
    root, paths = sources
    for path in paths:
        part = path.relative_to(root).parts[0]
        if part == "malformed":
            continue
        text = path.read_text()
        if part in ("claude-code", "hooks", "codex", "github", "otlp"):
            records = [json.loads(line) for line in text.splitlines()]
            assert records
        elif part in ("gemini", "cloudtrail"):
            json.loads(text)
    transcript = next(p for p in paths if p.relative_to(root).parts[0] == "claude-code")
    first = json.loads(transcript.read_text().splitlines()[0])
    assert {"sessionId", "uuid", "parentUuid", "timestamp", "message", "type"} <= set(first)
    hooks = (root / "hooks/claude-code-2026-05-20.jsonl").read_text().splitlines()
    assert all(json.loads(line)["agent"] == "claude-code" for line in hooks)
    events = {json.loads(line)["payload"]["hook_event_name"] for line in hooks}
    assert events == {"PreToolUse", "PostToolUse", "UserPromptSubmit"}
    assert json.loads((root / "otlp/claude-code-logs.json").read_text().splitlines()[0])[
        "resourceLogs"
    ]
    assert (root / "shell/bash_history").read_text().startswith("#")
    assert (root / "shell/zsh_history").read_text().startswith(": ")


def test_every_malformed_file_has_an_unreadable_line(sources):
    root, _paths = sources
    for path in sorted((root / "malformed").iterdir()):
        text = path.read_text()
        if path.name.endswith(".jsonl") or path.name.endswith(".ndjson") or "otlp" in path.name:
            lines = text.splitlines()
            json.loads(lines[0])  # the format is still recognised by its first line
            if "hooks" in path.name and "claude" in path.name:
                assert "payload_error" in json.loads(lines[1])  # as `agentaudit hook` records it
            else:
                with pytest.raises(ValueError):
                    json.loads(lines[1])
        elif "no-eventname" in path.name:
            assert "eventName" not in json.loads(text)["Records"][0]
        else:
            with pytest.raises(ValueError):
                json.loads(text)


def test_write_sources_is_deterministic(sources, tmp_path):
    root, paths = sources
    again = write_sources(tmp_path / "again")
    assert [p.relative_to(tmp_path / "again") for p in again] == [
        p.relative_to(root) for p in paths
    ]
    for a, b in zip(paths, again, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_write_sources_takes_a_subset_of_shapes(tmp_path):
    paths = write_sources(tmp_path, [GH])
    assert scan_paths(paths, [GH])
    assert not scan_paths(paths, [PEM])


# -- scan_store ---------------------------------------------------------------------------------


def _store(path, setup):
    con = duckdb.connect(str(path))
    setup(con)
    con.execute("CHECKPOINT")
    con.close()
    return path


def test_scan_finds_values_in_list_struct_map_and_json_columns(tmp_path):
    def setup(con):
        con.execute(
            "CREATE TABLE calls (call_id VARCHAR PRIMARY KEY, paths VARCHAR[], meta STRUCT(k VARCHAR, env MAP(VARCHAR, VARCHAR)), body JSON, n BIGINT)"
        )
        con.execute(
            "INSERT INTO calls VALUES "
            "('c1', ['/tmp/a', ?], {'k': 'x', 'env': MAP {'A': 'b'}}, '{}', 1), "
            "('c2', ['/tmp/b'], {'k': 'y', 'env': MAP {'GITHUB_TOKEN': ?}}, '{}', 2), "
            "('c3', [], {'k': 'z', 'env': MAP {}}, ?, 3)",
            [f"/home/dev/{GH.value}", GH.value, json.dumps({"key": PEM.value})],
        )

    hits = scan_store(_store(tmp_path / "s.duckdb", setup), SHAPES)
    found = {(h.where, h.column, h.key, h.shape) for h in hits}
    assert found == {
        ("main.calls", "paths", "c1", GH.name),
        ("main.calls", "meta", "c2", GH.name),
        ("main.calls", "body", "c3", PEM.name),  # JSON-escaped PEM: found by its body lines
    }


def test_scan_finds_a_value_duckdb_compressed_where_a_grep_of_the_file_does_not(tmp_path):
    def setup(con):
        con.execute("CREATE TABLE events (event_id VARCHAR, raw VARCHAR)")
        con.execute(
            "INSERT INTO events SELECT 'e' || i, CASE WHEN i = 2500 "
            "THEN 'step 2500: export GITHUB_TOKEN=' || ? || ' then ran the deploy script' "
            "ELSE 'step ' || i || ': ran the deploy script for service-' || (i % 50) "
            "|| ' in us-east-1, all fine' END FROM range(5000) t(i) ORDER BY i",
            [GH.value],
        )

    db = _store(tmp_path / "c.duckdb", setup)
    hits = scan_store(db, [GH])
    assert [(h.where, h.column, h.shape) for h in hits] == [("main.events", "raw", GH.name)]
    assert hits[0].key == "2500"  # no primary key: the rowid
    con = duckdb.connect(str(db), read_only=True)
    compression = {
        row[0]
        for row in con.execute(
            "SELECT compression FROM pragma_storage_info('events') WHERE column_name = 'raw'"
        ).fetchall()
    }
    con.close()
    if any("FSST" in c or "Dictionary" in c for c in compression):
        assert not scan_paths([db], [GH]), compression  # why the store needs SQL


def test_scan_of_a_clean_store_reports_nothing(tmp_path):
    def setup(con):
        con.execute(
            "CREATE TABLE events (event_id VARCHAR PRIMARY KEY, command VARCHAR, paths VARCHAR[])"
        )
        con.execute(
            "INSERT INTO events VALUES ('e1', 'curl -H \"Authorization: Bearer [SECRET:bearer_token:0123456789abcdef]\" x', ['/tmp'])"
        )
        con.execute("CREATE TABLE empty (x INTEGER)")

    assert scan_store(_store(tmp_path / "clean.duckdb", setup), SHAPES) == []


def test_scan_reads_a_store_left_with_its_wal(tmp_path):
    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    con.execute("PRAGMA disable_checkpoint_on_shutdown")
    con.execute("CREATE TABLE outbox (outbox_id VARCHAR PRIMARY KEY, body VARCHAR)")
    con.execute("INSERT INTO outbox VALUES ('o1', ?)", [f"page: {GH.value}"])
    con.close()
    assert [(h.column, h.key) for h in scan_store(db, [GH])] == [("body", "o1")]


def test_scan_accepts_a_mapping_of_plain_values(tmp_path):
    def setup(con):
        con.execute("CREATE TABLE t (a VARCHAR)")
        con.execute("INSERT INTO t VALUES ('x hunter2-but-longer y')")

    hits = scan_store(_store(tmp_path / "m.duckdb", setup), {"custom": "hunter2-but-longer"})
    assert [(h.shape, h.column) for h in hits] == [("custom", "a")]


# -- scan_paths ---------------------------------------------------------------------------------


def test_scan_paths_finds_plain_json_escaped_and_gzipped_values(tmp_path):
    (tmp_path / "export.ndjson").write_text(json.dumps({"raw": PEM.value}) + "\n")
    (tmp_path / "page.txt").write_text(f"Destructive call (redacted): mysql -p{GH.value}")
    (tmp_path / "export.json.gz").write_bytes(gzip.compress(GH.value.encode()))
    (tmp_path / "clean.log").write_text("nothing to see [SECRET:github_pat:0123456789abcdef]\n")
    hits = scan_paths([tmp_path], SHAPES)
    assert {(h.where.rsplit("/", 1)[1], h.shape) for h in hits} == {
        ("export.ndjson", PEM.name),
        ("page.txt", GH.name),
        ("export.json.gz", GH.name),
    }
    assert scan_paths([tmp_path / "clean.log"], SHAPES) == []
    assert scan_bytes(f"body {GH.value}".encode(), SHAPES)[0].shape == GH.name
