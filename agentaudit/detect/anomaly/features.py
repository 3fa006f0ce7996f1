"""Features of activity windows, per session (or per principal when no session claims it).

Windows are 10 s tumbling buckets of one session; each row also carries sums over the
sliding 60 s that end with it (the bucket and the five before it). Two groups of features:

Context: how busy, how new, when. Only the forest weighs them, against the baseline.

| feature | meaning |
|---|---|
| events | events in the 10 s window (the call rate, per 10 s) |
| process, api, file, message | events of each kind in the window |
| targets | distinct targets acted on |
| credentials | distinct credentials (fingerprints) used |
| new_credentials | credentials used for the first time in the store's history (not in the baseline) |
| new_programs | programs (first word of a process operation) run for the first time in history |
| new_commands | command shapes (program and up to two subcommand words, flags and their values dropped: `aws ec2 terminate-instances`, `npm run db:push`) run for the first time in history |
| credential_access | events that read or printed a secret, or hunted for one |
| moves | calls that move, copy or rename files onto a destination (`mv`, `move`, `cp`, `Move-Item`...) |
| production_share | share of events whose target is in production |
| error_rate | share of events that failed or were denied |
| hour_sin, hour_cos | time of day (UTC) of the window, on the unit circle |
| events_60s, targets_60s, errors_60s, new_programs_60s, new_commands_60s | the same counts summed over the sliding 60 s |

Risk: how much damage the window does, each after a signal of the incidents reference (S1-S9).
Besides the forest, a risk feature above anything the baseline reached lowers the score
directly (`agentaudit.model.forest`).

| feature | meaning |
|---|---|
| destructive | destructive events (command analysis or provider catalog), plus the changes and overwrites below that count as destruction |
| destructive_weighted | destructive events weighted by severity, 2^(rank-1): low 1, medium 2, high 4, critical 8 (eight `rm -rf node_modules` weigh one `rm -rf ~`) |
| severity_max | highest severity of any event in the window: info 0, low 1, medium 2, high 3, critical 4 |
| destructive_new | destructive events whose command shape is run for the first time in history |
| remote_destructive | destructive events on something other than local files or git history (cloud, infrastructure, databases, backups, audit trails) |
| destructive_outside | destructive events whose scope is the home directory or the system, or recursive deletes of an absolute, home or variable path (not /tmp): outside the project |
| production_destructive | destructive events on production (the target's environment, or a command naming prod); such an event also counts one severity rank higher (S5) |
| backup_destructive | destructive events that destroy backups or audit trails (S8) |
| moves_onto_one_target | moves onto a destination another move of the window already used: each destroyed the file moved before it (Gemini CLI #4586); counted as high-severity destruction |
| credential_then_destructive | destructive events in a window whose 60 s read, printed or hunted a credential (S1, S9) |
| failure_then_change | destructive events and moves in a window whose 60 s had a failed or denied call (S9, the Gemini failed mkdir) |
| change_after_restriction | destructive calls, or writes a freeze forbids (schema push, migration, deploy), after the session's user said freeze / do not delete / do not touch production; each counts as critical destruction (S6) |
| destructive_after_bypass | destructive events in a session that earlier (or in the same call) turned the agent's safety prompts off (`--dangerously-skip-permissions`, `--trust-all-tools`, `-auto-approve`; S4) |
| destructive_60s, destructive_weighted_60s | destructive events, plain and weighted, summed over the sliding 60 s |

"First time in history" is relative to the baseline the model was trained on plus everything
earlier in the scored range, so a trained model sees the same meaning at scoring time.
A changed feature list or meaning bumps `forest.MODEL_FORMAT`, so older models are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from agentaudit.enrich.instructions import FREEZE_WRITES
from agentaudit.schema import TIME
from agentaudit.store import Store
from agentaudit.taxonomy import severity_rank_sql

WINDOW_SECONDS = 10
LONG_WINDOW_SECONDS = 60

# Context: how busy, how new, when. The forest weighs them against the baseline.
CONTEXT_FEATURES: tuple[str, ...] = (
    "events",
    "process",
    "api",
    "file",
    "message",
    "targets",
    "credentials",
    "new_credentials",
    "new_programs",
    "new_commands",
    "credential_access",
    "moves",
    "production_share",
    "error_rate",
    "hour_sin",
    "hour_cos",
    "events_60s",
    "targets_60s",
    "errors_60s",
    "new_programs_60s",
    "new_commands_60s",
)
# Harm: each measures how much damage the window can do (signals S1-S9 of the incidents
# reference). A value beyond anything the baseline saw also lowers the score directly
# (`agentaudit.model.forest`), since a tree cannot split on a feature the baseline held constant.
RISK_FEATURES: tuple[str, ...] = (
    "destructive",
    "destructive_weighted",
    "severity_max",
    "destructive_new",
    "remote_destructive",
    "destructive_outside",
    "production_destructive",
    "backup_destructive",
    "moves_onto_one_target",
    "credential_then_destructive",
    "failure_then_change",
    "change_after_restriction",
    "destructive_after_bypass",
    "destructive_60s",
    "destructive_weighted_60s",
)
FEATURES: tuple[str, ...] = CONTEXT_FEATURES + RISK_FEATURES


@dataclass
class Baseline:
    """What the training window had already seen: programs and credential fingerprints."""

    programs: list[str] = field(default_factory=list)
    credentials: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


# A command's shape: program and up to two subcommand words, flags and their values dropped.
SHAPE_SQL = r"""nullif(array_to_string(
    list_filter(string_split(regexp_replace(command,
        '(^|\s)-{1,2}[A-Za-z][A-Za-z0-9_-]*(=\S*)?(\s+[^-\s]\S*)?', ' ', 'g'), ' '),
        lambda x: regexp_full_match(x, '[a-z][a-z0-9:_.-]*'))[1:3], ' '), '')"""


OWNER_SQL = "coalesce(session_key, 'principal:' || coalesce(actor, credential_fp, source))"
WINDOW_SQL = f"time_bucket(INTERVAL {WINDOW_SECONDS} SECOND, time)"

# Severity rank of an event (info 0 .. critical 4), and a destructive event's weight
# 2^(rank - 1): a critical delete counts as much as eight low ones (`rm -rf node_modules`).
SEVERITY_RANK_SQL = severity_rank_sql("severity")
# Calls that move, copy or rename files onto a destination: the loss no delete verb shows.
MOVE_SQL = r"regexp_matches(command, '(^|[;&|]\s*)(mv|move|Move-Item|mi|cp|copy|Copy-Item|ren|rename|Rename-Item)\s')"

_SQL = f"""
WITH base AS (
    SELECT {OWNER_SQL} AS owner, {WINDOW_SQL} AS w, time, event_id, kind, command,
           coalesce(destructive, FALSE) AS destructive, target, credential_fp,
           target_env = 'production' AS prod, status IN ('failure', 'denied') AS failed,
           coalesce(list_contains(categories, 'credential_access'), FALSE) AS cred_access,
           CASE WHEN kind = 'process' THEN nullif(split_part(operation, ' ', 1), '') END AS prog,
           {SEVERITY_RANK_SQL} AS sev,
           coalesce(destructive AND len(list_filter(categories, lambda c:
               c NOT IN ('fs_delete', 'vcs_history_loss'))) > 0, FALSE) AS remote,
           coalesce(destructive AND (scope IN ('home', 'system')
                    OR (list_contains(categories, 'fs_delete')
                        AND regexp_matches(target, '^[/~$]')
                        AND NOT regexp_matches(target, '^/(tmp|var/tmp)/'))), FALSE) AS outside,
           coalesce(destructive AND target_env = 'production', FALSE) AS prod_target,
           coalesce(destructive AND (list_contains(categories, 'backup_destroy')
                    OR list_contains(categories, 'audit_tamper')), FALSE) AS backup,
           coalesce(list_contains(categories, 'safety_bypass'), FALSE) AS bypass,
           instructions IS NOT NULL AS restricts,  -- a user prompt forbade something (S6)
    FROM event_sessions
    WHERE time IS NOT NULL AND time >= $since AND time < $until
), restricted AS (  -- since when each owner's user forbade changes (S6)
    SELECT owner, min(time) AS since FROM base WHERE restricts GROUP BY owner
), bypassed AS (  -- since when each owner ran with the agent's safety prompts off (S4)
    SELECT owner, min(time) AS since FROM base WHERE bypass GROUP BY owner
), shapes AS (  -- agents repeat themselves: analyse each distinct command once
    SELECT command, {SHAPE_SQL} AS shape,
           regexp_matches(command, '(?i)\\bprod(uction)?\\b') AS names_prod,
           {MOVE_SQL} AS moved,
           CASE WHEN {MOVE_SQL} THEN regexp_extract(command, '\\s("[^"]+"|\\S+)\\s*$', 1)
                END AS move_to,
           regexp_matches(command, '{FREEZE_WRITES}') AS freeze_write
    FROM (SELECT DISTINCT command FROM base WHERE kind = 'process' AND command IS NOT NULL)
), ev AS (
    SELECT * EXCLUDE (command, prod_target, restricts, bypass)
             REPLACE (destructive OR after_restriction AS destructive,
                      CASE WHEN after_restriction THEN 4
                           WHEN prod_destructive THEN least(sev + 1, 4) ELSE sev END AS sev)
    FROM (SELECT base.*, shapes.shape, coalesce(shapes.moved, FALSE) AS moved, shapes.move_to,
                 coalesce(base.prod_target OR (base.destructive AND shapes.names_prod), FALSE)
                     AS prod_destructive,
                 coalesce((base.destructive OR shapes.freeze_write)
                          AND base.time > restricted.since, FALSE) AS after_restriction,
                 coalesce(base.time >= bypassed.since, FALSE) AS after_bypass
          FROM base LEFT JOIN shapes USING (command) LEFT JOIN restricted USING (owner)
               LEFT JOIN bypassed USING (owner))
), first_prog AS (  -- where each program first appears: no join back to the events
    SELECT arg_min(owner, time) AS owner, arg_min(w, time) AS w FROM ev
    WHERE prog IS NOT NULL AND NOT list_contains($programs, prog) GROUP BY prog
), first_shape AS (
    SELECT arg_min(owner, time) AS owner, arg_min(w, time) AS w,
           arg_min(destructive, time) AS destructive
    FROM ev WHERE shape IS NOT NULL AND NOT list_contains($commands, shape) GROUP BY shape
), first_cred AS (
    SELECT arg_min(owner, time) AS owner, arg_min(w, time) AS w FROM ev
    WHERE credential_fp IS NOT NULL AND NOT list_contains($credentials, credential_fp)
    GROUP BY credential_fp
), win AS (
    SELECT owner, w, count(*) AS events,
           count(*) FILTER (WHERE kind = 'process') AS process,
           count(*) FILTER (WHERE kind = 'api') AS api,
           count(*) FILTER (WHERE kind = 'file') AS file,
           count(*) FILTER (WHERE kind = 'message') AS message,
           count(*) FILTER (WHERE destructive) AS destructive,
           coalesce(sum(2 ** (sev - 1)) FILTER (WHERE destructive AND sev > 0), 0)
               AS destructive_weighted,
           max(sev) AS severity_max,
           count(DISTINCT target) AS targets, count(DISTINCT credential_fp) AS credentials,
           count(*) FILTER (WHERE cred_access) AS credential_access,
           count(*) FILTER (WHERE remote) AS remote_destructive,
           count(*) FILTER (WHERE outside) AS destructive_outside,
           count(*) FILTER (WHERE prod_destructive) AS production_destructive,
           count(*) FILTER (WHERE backup) AS backup_destructive,
           count(*) FILTER (WHERE moved) AS moves,
           count(*) FILTER (WHERE after_restriction) AS change_after_restriction,
           count(*) FILTER (WHERE destructive AND after_bypass) AS destructive_after_bypass,
           avg(prod::INT) AS production_share, avg(failed::INT) AS error_rate,
           count(*) FILTER (WHERE failed) AS errors,
           min(time) AS first_time, max(time) AS last_time
    FROM ev GROUP BY owner, w
), move_targets AS (  -- files moved onto a destination another move in the window used
    SELECT owner, w, count(*) - count(DISTINCT move_to) AS moves_onto_one_target
    FROM ev WHERE moved GROUP BY owner, w
), new_prog AS (
    SELECT owner, w, count(*) AS new_programs FROM first_prog GROUP BY owner, w
), new_cred AS (
    SELECT owner, w, count(*) AS new_credentials FROM first_cred GROUP BY owner, w
), new_shape AS (
    SELECT owner, w, count(*) AS new_commands,
           count(*) FILTER (WHERE destructive) AS destructive_new
    FROM first_shape GROUP BY owner, w
), joined AS (
    SELECT win.*, coalesce(new_prog.new_programs, 0) AS new_programs,
           coalesce(new_cred.new_credentials, 0) AS new_credentials,
           coalesce(new_shape.new_commands, 0) AS new_commands,
           coalesce(new_shape.destructive_new, 0) AS destructive_new,
           coalesce(move_targets.moves_onto_one_target, 0) AS moves_onto_one_target
    FROM win LEFT JOIN new_prog USING (owner, w) LEFT JOIN new_cred USING (owner, w)
         LEFT JOIN new_shape USING (owner, w) LEFT JOIN move_targets USING (owner, w)
)
SELECT owner, w AS window_start, first_time, last_time,
       events, process, api, file, message,
       -- a file moved onto a path another move of the window just filled is destroyed: a
       -- destructive event of high severity (3), as the move-overwrite behaviour rates it
       destructive + moves_onto_one_target AS destructive,
       destructive_weighted + 4 * moves_onto_one_target AS destructive_weighted,
       CASE WHEN moves_onto_one_target > 0 THEN greatest(severity_max, 3) ELSE severity_max END
           AS severity_max,
       targets, credentials, new_credentials, new_programs, new_commands, destructive_new,
       remote_destructive, destructive_outside, production_destructive, backup_destructive,
       moves, moves_onto_one_target, change_after_restriction, destructive_after_bypass,
       credential_access, production_share, error_rate,
       sin(2 * pi() * (hour(w) * 60 + minute(w)) / 1440) AS hour_sin,
       cos(2 * pi() * (hour(w) * 60 + minute(w)) / 1440) AS hour_cos,
       errors
FROM joined
"""

_FAR_PAST = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH = pd.Timestamp(0, tz="UTC")
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


def window_features(
    store: Store,
    since: datetime | None = None,
    until: datetime | None = None,
    baseline: Baseline | None = None,
) -> pd.DataFrame:
    """One row per (owner, 10 s window) in [since, until): ids, times and FEATURES."""
    baseline = baseline or Baseline()
    params = {
        "since": since or _FAR_PAST,
        "until": until or _FAR_FUTURE,
        "programs": baseline.programs,
        "credentials": baseline.credentials,
        "commands": baseline.commands,
    }
    frame = store.con.sql(_SQL, params=params).to_arrow_table().to_pandas()
    _add_long_window(frame)
    for name in FEATURES:
        frame[name] = frame[name].astype("float64").fillna(0.0)
    return frame


# Summed over the sliding minute that ends with each window.
_LONG_SUMS = {
    "events": "events_60s",
    "destructive": "destructive_60s",
    "targets": "targets_60s",
    "errors": "errors_60s",
    "new_programs": "new_programs_60s",
    "new_commands": "new_commands_60s",
    "destructive_weighted": "destructive_weighted_60s",
    "credential_access": "credential_access_60s",
}


def _add_long_window(frame: pd.DataFrame) -> None:
    """The 60 s sums, and the features that need them, computed in place.

    Prefix sums over the rows sorted by owner and window: a SQL RANGE window per sum cost more
    than the rest of the feature query together on a million events.
    """
    step = WINDOW_SECONDS
    owner = pd.factorize(frame["owner"])[0].astype(np.int64)
    buckets = ((frame["window_start"] - _EPOCH) // pd.Timedelta(seconds=step)).to_numpy(np.int64)
    order = np.lexsort((buckets, owner))
    key = owner[order] * (1 << 40) + buckets[order]
    first = np.searchsorted(key, key - (LONG_WINDOW_SECONDS // step - 1), side="left")
    last = np.arange(1, len(key) + 1)
    for name, long_name in _LONG_SUMS.items():
        prefix = np.concatenate([[0.0], np.cumsum(frame[name].to_numpy(np.float64)[order])])
        sums = np.empty(len(key))
        sums[order] = prefix[last] - prefix[first]
        frame[long_name] = sums
    destructive = frame["destructive"].to_numpy(np.float64)
    frame["credential_then_destructive"] = np.where(
        frame["credential_access_60s"] > 0, destructive, 0.0
    )
    frame["failure_then_change"] = np.where(
        frame["errors_60s"] > 0, destructive + frame["moves"].to_numpy(np.float64), 0.0
    )


def event_ids_of_windows(
    store: Store, windows: list[tuple[str, Any]], limit: int = 50
) -> dict[tuple[str, Any], list[str]]:
    """The event ids (first `limit`, in time order) of the given (owner, window_start) windows.

    Kept out of `window_features`: listing ids for every window costs as much as the features.
    """
    if not windows:
        return {}
    keys = pa.table(
        {"owner": [w[0] for w in windows], "w": pa.array([w[1] for w in windows], TIME)}
    )
    low = min(w[1] for w in windows)
    high = max(w[1] for w in windows) + pd.Timedelta(seconds=WINDOW_SECONDS)
    store.con.register("_windows", keys)
    try:
        rows = store.con.sql(
            f"""SELECT owner, w, list(event_id ORDER BY time, seq)[1:{limit}] AS ids
                FROM (SELECT {OWNER_SQL} AS owner, {WINDOW_SQL} AS w, event_id, time, seq
                      FROM event_sessions WHERE time >= $low AND time < $high)
                JOIN _windows USING (owner, w) GROUP BY owner, w""",
            params={"low": low, "high": high},
        ).fetchall()
    finally:
        store.con.unregister("_windows")
    return {(owner, pd.Timestamp(w)): ids for owner, w, ids in rows}


def windows_of_events(store: Store, event_ids: list[str]) -> set[tuple[str, Any]]:
    """The (owner, window_start) windows the given events fall in."""
    if not event_ids:
        return set()
    rows = store.con.sql(
        f"SELECT DISTINCT {OWNER_SQL}, {WINDOW_SQL} FROM event_sessions "
        "WHERE list_contains($ids, event_id) AND time IS NOT NULL",
        params={"ids": list(event_ids)},
    ).fetchall()
    return {(owner, pd.Timestamp(w)) for owner, w in rows}


def baseline_of(store: Store, since: datetime | None, until: datetime | None) -> Baseline:
    rows = store.con.execute(
        f"""SELECT list(DISTINCT split_part(operation, ' ', 1)) FILTER (WHERE kind = 'process'
                                                                       AND operation IS NOT NULL),
                  list(DISTINCT credential_fp) FILTER (WHERE credential_fp IS NOT NULL),
                  list(DISTINCT {SHAPE_SQL}) FILTER (WHERE kind = 'process' AND command IS NOT NULL)
           FROM events WHERE time >= $since AND time < $until""",
        {"since": since or _FAR_PAST, "until": until or _FAR_FUTURE},
    ).fetchall()[0]
    return Baseline(
        sorted(rows[0] or []), sorted(rows[1] or []), sorted(c for c in rows[2] or [] if c)
    )
