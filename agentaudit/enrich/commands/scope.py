"""Where a path points: the project, a temp dir, the home dir, the system, or unknown.

Scope decides severity: `rm -rf ./node_modules` is housekeeping, `rm -rf ~` is a disaster.
Without a cwd, relative paths are taken to be inside the project the agent works in.
"""

from __future__ import annotations

import posixpath
import re

TEMP_ROOTS = ("/tmp", "/var/tmp", "/private/tmp", "/private/var/folders", "/dev/shm")
# Deleting these system trees (or the root) breaks the machine.
SYSTEM_CRITICAL = (
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/opt", "/proc", "/root", "/sbin",
    "/srv", "/sys", "/usr", "/var", "/home", "/Users", "/System", "/Library", "/Applications",
    "/mnt", "/media", "/snap",
)  # fmt: skip
# Regenerable output: dependencies, build products and caches that a build recreates.
REGENERABLE = frozenset(
    {
        "node_modules", "build", "dist", "out", "target", ".next", ".nuxt", ".svelte-kit",
        ".cache", "cache", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache",
        "coverage", ".coverage", "htmlcov", ".turbo", ".parcel-cache", ".venv", "venv", ".tox",
        ".gradle", ".eggs", "tmp", "temp", ".tmp", "logs", ".angular", "bower_components",
        ".expo", ".vercel", ".netlify", "storybook-static", ".docusaurus", "_build", "bin", "obj",
        "deps", ".dart_tool", "Pods", "DerivedData", ".build", "*.egg-info", "lib-cov",
        ".terraform",
    }
)  # fmt: skip
_REGENERABLE_SUFFIX = (".pyc", ".pyo", ".o", ".class", ".egg-info", ".tsbuildinfo", ".log")
_HOME = re.compile(r"^(~[A-Za-z0-9_.-]*|\$HOME|\$\{HOME\})(?=/|$)")
_TMPVAR = re.compile(r"^(\$TMPDIR|\$\{TMPDIR\}|\$\{TMPDIR:-/tmp\}|\$TMP|\$\{TMP\}|\$TEMP)(?=/|$)")


def resolve(path: str, env: dict[str, str] | None = None, cwd: str | None = None) -> str:
    """Substitute the inline env and cwd, normalise `..` (textually, as a shell would)."""
    for name, value in (env or {}).items():
        if name in ("TMPDIR", "HOME", "TMP"):
            path = re.sub(rf"^\$\{{?{name}\}}?(?=/|$)", value or "", path)
    if path.startswith("/"):
        return posixpath.normpath(path)
    if path.startswith(("~", "$")):
        head, _, rest = path.partition("/")
        if not rest:
            return path
        rest = posixpath.normpath(rest)
        # `$TMPDIR/../x` climbs out of wherever the variable points: unknown
        return f"$ESCAPED/{rest}" if rest.startswith("..") else f"{head}/{rest}"
    if cwd:
        return posixpath.normpath(posixpath.join(cwd, path))
    return posixpath.normpath(path) if path else path


def classify(path: str, cwd: str | None = None, home: str | None = None) -> str:
    """project, temp, home, system or unknown for one (resolved) path."""
    if not path:
        return "unknown"
    norm_cwd = posixpath.normpath(cwd) if cwd else None
    inside = norm_cwd and (path == norm_cwd or path.startswith(norm_cwd.rstrip("/") + "/"))
    temp = any(path == t or path.startswith(t + "/") for t in TEMP_ROOTS) or _TMPVAR.match(path)
    if inside and cwd != home and not temp and ".." not in path.split("/"):
        return "project"  # also when the cwd is written `~/app` or `$HOME/app`
    if _TMPVAR.match(path):
        rest = _TMPVAR.sub("", path)
        return "unknown" if ".." in rest else "temp"
    if _HOME.match(path):
        return "home"
    if "$" in path or "`" in path:
        return "unknown"
    if path.startswith("/"):
        norm = posixpath.normpath(path)
        if any(norm == t or norm.startswith(t + "/") for t in TEMP_ROOTS):
            return "temp"
        in_home = home and (norm == home or norm.startswith(home.rstrip("/") + "/"))
        if cwd and cwd != home and (norm == cwd or norm.startswith(cwd.rstrip("/") + "/")):
            return "project"  # (an agent working in $HOME itself has no project to protect)
        if in_home:
            return "home"
        if re.match(r"^/(home|Users)/[^/]+", norm):
            return "home"
        return "system"
    norm = posixpath.normpath(path)
    if norm == ".." or norm.startswith("../"):
        return "home"  # above the project: the user's other work
    return "project"


def is_root_of_scope(path: str) -> bool:
    """`/`, `~`, `.`, `*`, `/etc`, `~/` -- the whole of something, not a part of it."""
    stripped = path.rstrip("/") or "/"
    if stripped in ("/", "/*", ".", "./*", "*", "..", "~", "$HOME", "${HOME}", "~/*", "$HOME/*"):
        return True
    if _HOME.match(stripped) and _HOME.sub("", stripped) in ("", "/*"):
        return True
    norm = posixpath.normpath(stripped) if stripped.startswith("/") else stripped
    return norm in SYSTEM_CRITICAL or norm.rstrip("/*") in SYSTEM_CRITICAL


def is_regenerable(path: str) -> bool:
    """Build output, dependencies or caches: the path or one of its parents is one."""
    parts = [p for p in path.rstrip("/").split("/") if p not in ("", ".")]
    if not parts:
        return False
    return any(p in REGENERABLE for p in parts) or parts[-1].endswith(_REGENERABLE_SUFFIX)


_RUN_SUFFIX = re.compile(r"[-_.]([0-9a-f]{4,}|\d+)$")


def is_scratch_name(path: str) -> bool:
    """The last component names build output or a cache (`build-7f3a9c`, `cache`, `x.tmp`):
    on another host, where we cannot see what /tmp holds, only such names are housekeeping."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    stem = _RUN_SUFFIX.sub("", last)
    return stem in REGENERABLE or last.endswith((".tmp", ".log")) or stem.startswith("tmp")


# Caches under $HOME that their tools rebuild on demand (XDG: ~/.cache is "non-essential data")
_HOME_CACHES = re.compile(
    r"^(~|\$HOME|\$\{HOME\}|/home/[^/]+|/Users/[^/]+|/root)/(\.cache|Library/Caches|\.npm/_cacache|"
    r"\.npm/_npx|\.cargo/registry|\.cargo/git|\.gradle/caches|\.gradle/wrapper/dists|"
    r"\.m2/repository|go/pkg/mod|\.pnpm-store|\.local/share/pnpm/store|\.yarn/cache|"
    r"\.yarn/berry/cache|\.bun/install/cache|\.nuget/packages|\.composer/cache|\.ivy2/cache|"
    r"\.sbt/boot|\.rustup/downloads|\.deno/deps|\.expo/cache|\.node-gyp|\.electron)(/|$)"
)


def is_home_cache(path: str) -> bool:
    return bool(_HOME_CACHES.match(path)) and ".." not in path.split("/")


def is_cache(path: str) -> bool:
    """A cache or compiled file by its name (`.pytest_cache`, `__pycache__`, `*.o`): regenerable
    wherever it is, unlike build output, which a server may be serving."""
    parts = [p for p in path.rstrip("/").split("/") if p not in ("", ".")]
    return bool(parts) and (
        any("cache" in p.lower() for p in parts)
        or parts[-1].endswith((".pyc", ".pyo", ".o", ".class"))
    )
