"""The dashboard in a real headless Chromium, served by `agentaudit dashboard` on 127.0.0.1.

Also opens the timeline's HTML export from a file with the network cut off. Screenshots go to
the test's tmp dir, or to $AGENTAUDIT_SCREENSHOTS (e.g. docs/) to refresh the README's images.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("selenium", reason="selenium is in the dev extra")
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from agentaudit.testing import free_port

pytestmark = pytest.mark.slow  # Streamlit server and Chromium

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
TITLE = (
    "[CRITICAL] railway.graphql:volumeDelete on 3d2c42fb-6c1e-4a55-9d5f-8b7e2f0a9c13 (production)"
)

if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    if os.environ.get("CI"):
        raise RuntimeError("CI must have chromium and chromium-driver (.ci/run installs them)")
    pytest.skip("Debian's chromium and chromium-driver are not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def server(demo_db):
    yield from dashboard_server(demo_db)


TOKEN = "a-token-only-the-test-knows"


@pytest.fixture(scope="module")
def gated_server(demo_db):
    """Bound beyond loopback, which `agentaudit dashboard` allows only with a token."""
    yield from dashboard_server(
        demo_db, "--address", "0.0.0.0", env={"AGENTAUDIT_DASHBOARD_TOKEN": TOKEN}
    )


def dashboard_server(demo_db, *args: str, env: dict[str, str] | None = None):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from agentaudit.cli import main; main()", "dashboard",
         "--db", str(demo_db), "--port", str(port), *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"dashboard did not start: {proc.stdout.read().decode()[-2000:]}")
            time.sleep(0.2)
    yield url
    os.killpg(proc.pid, signal.SIGTERM)  # the group we started: the server and nothing else
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        "--window-size=1400,1100",
        # everything but loopback goes to a closed port: the pages must need no network
        "--proxy-server=127.0.0.1:9",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    target = os.environ.get("AGENTAUDIT_SCREENSHOTS")
    return Path(target) if target else tmp_path_factory.mktemp("screenshots")


def load(browser, url: str, *expected: str) -> str:
    browser.get(url)

    def ready(driver) -> bool:
        text = driver.find_element(By.TAG_NAME, "body").text
        running = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]')
        return all(e in text for e in expected) and not running

    WebDriverWait(browser, 45, poll_frequency=0.2).until(ready)
    return browser.find_element(By.TAG_NAME, "body").text


@pytest.mark.parametrize(
    ("page", "path", "expected"),
    [
        ("incidents", "", [TITLE, "railway.graphql:volumeDelete", "railway volume delete"]),
        ("timeline", "timeline", [TITLE, "railway.graphql:volumeDelete", "T+8,921 railway.audit"]),
        ("findings", "findings", ["destructive-provider-http", "Destructive provider call over HTTP: railway.graphql:volumeDelete", "failed-then-credential-hunt-then-destructive"]),
        ("sessions", "sessions", ["8f1d2c3b-5a6e-4f70-9b1c-2d3e4f5a6b7c", "production", "shell:", "2 sessions (1 agent, 1 shell)"]),
        ("sql", "sql", ["destructive_events", "railway.graphql:volumeDelete"]),
    ],
)  # fmt: skip
def test_page_in_chromium(server, browser, shots, page, path, expected):
    text = load(browser, f"{server}/{path}", *expected)
    assert "Page not found" not in text
    if page == "timeline":  # the chart: the timeline's own SVG, in a frame of its own
        WebDriverWait(browser, 20).until(
            lambda d: any(
                "timeline-chart" in (f.get_attribute("srcdoc") or "")
                for f in d.find_elements(By.TAG_NAME, "iframe")
            )
        )
    shot = shots / f"dashboard-{page}.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000


def test_token_gate_in_chromium(gated_server, browser):
    text = load(browser, gated_server, "Access token")
    assert TITLE not in text and "railway" not in text  # nothing from the store before it
    field = browser.find_element(By.CSS_SELECTOR, 'input[type="password"]')
    field.send_keys("not-the-token" + Keys.ENTER)
    WebDriverWait(browser, 30).until(
        lambda d: "not the one this dashboard was started with" in d.find_element(
            By.TAG_NAME, "body").text
    )  # fmt: skip
    assert TITLE not in browser.find_element(By.TAG_NAME, "body").text
    field = browser.find_element(By.CSS_SELECTOR, 'input[type="password"]')
    field.send_keys(Keys.CONTROL + "a", Keys.DELETE)  # React keeps its value through .clear()
    field.send_keys(TOKEN + Keys.ENTER)
    try:
        WebDriverWait(browser, 45).until(
            lambda d: TITLE in d.find_element(By.TAG_NAME, "body").text
        )  # the incidents page, for this browser session only
    except Exception:
        pytest.fail(browser.find_element(By.TAG_NAME, "body").text[-2000:])


def test_timeline_html_opens_offline(demo_db, demo_incident, browser, tmp_path):
    from typer.testing import CliRunner

    from agentaudit.cli import app

    page = tmp_path / "incident.html"
    result = CliRunner().invoke(
        app,
        [
            "timeline",
            "--incident",
            demo_incident,
            "--db",
            str(demo_db),
            "-f",
            "html",
            "--out",
            str(page),
        ],
    )
    assert result.exit_code == 0, result.output
    browser.get(page.as_uri())
    facts = json.loads(
        browser.execute_script(
            """const svg = document.querySelector('svg.timeline-chart');
               const box = svg.getBoundingClientRect();
               return JSON.stringify({
                 width: box.width, height: box.height,
                 dots: svg.querySelectorAll('circle').length,
                 fetched: performance.getEntriesByType('resource').length,
                 text: document.body.innerText});"""
        )
    )
    assert facts["width"] > 900 and facts["height"] > 150
    assert facts["dots"] == 11
    assert facts["fetched"] == 0  # nothing loaded besides the file itself
    assert "1,117 ms after the call it records" in facts["text"]


# -- hundreds of incidents: the Stratus CloudTrail file plus 320 generated Cursor sessions ------


@pytest.fixture(scope="module")
def busy_db(corpus, tmp_path_factory):
    from agentaudit.alert.config import parse_config
    from agentaudit.ingest import ingest_paths
    from agentaudit.pipeline import detect_and_alert
    from agentaudit.scenarios.incident import README_ALERTING
    from agentaudit.store import Store
    from tests.analyst.busy_store import cursor_sessions

    folder = tmp_path_factory.mktemp("busy")
    hooks = cursor_sessions(folder / "cursor-hooks.jsonl", 320)
    stratus = corpus / "cloudtrail" / "invictus-stratus-2023-07-10.json.gz"
    with Store.open(folder / "busy.duckdb") as store:
        ingest_paths(store, [hooks, stratus])
        detect_and_alert(store, [], config=parse_config(README_ALERTING), deliver=False)
        assert store.count("alerts") >= 300
    return folder / "busy.duckdb"


@pytest.fixture(scope="module")
def busy_server(busy_db):
    yield from dashboard_server(busy_db)


def _count(db: Path, sql: str, *params: object) -> int:
    from agentaudit.store import Store

    with Store.open(db, read_only=True) as store:
        return store.rows(sql, list(params))[0]["n"]


def _choose(browser, label: str, value: str) -> None:
    """One interaction with a select box: open it, type the value, Enter."""
    box = next(
        b
        for b in browser.find_elements(By.CSS_SELECTOR, '[data-testid="stSelectbox"]')
        if b.text.startswith(label)
    )
    field = box.find_element(By.TAG_NAME, "input")
    field.click()
    field.send_keys(value + Keys.ENTER)


def test_one_actors_critical_incidents_in_one_interaction(busy_server, busy_db, browser, shots):
    total = _count(busy_db, "SELECT count(*) AS n FROM incidents")
    load(browser, busy_server, f"{total:,} incidents (first 100 shown)")
    actor = "dev2@example.com"
    critical = _count(
        busy_db,
        "SELECT count(*) AS n FROM incidents WHERE severity = 'critical' "
        "AND list_contains(actors, ?)",
        actor,
    )
    assert 0 < critical < total
    _choose(browser, "Critical incidents of", actor)  # the one interaction
    expected = f"{critical} incidents; severity critical, actor {actor}"
    text = load_current(browser, expected)
    table = browser.find_element(By.CSS_SELECTOR, '[data-testid="stTable"] table')
    rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) == critical
    assert all("critical" in row.text and actor in row.text for row in rows)
    assert "high" not in table.text.split()
    assert browser.save_screenshot(str(shots / "dashboard-incidents-filtered.png"))
    assert text


def load_current(browser, *expected: str) -> str:
    """Wait until the page (already open) shows every expected text and is idle."""

    def ready(driver) -> bool:
        text = driver.find_element(By.TAG_NAME, "body").text
        running = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]')
        return all(e in text for e in expected) and not running

    WebDriverWait(browser, 60, poll_frequency=0.2).until(ready)
    return browser.find_element(By.TAG_NAME, "body").text


def test_the_stratus_timeline_has_no_overlapping_labels(busy_server, browser, shots):
    load(browser, f"{busy_server}/timeline", "Critical incidents of")
    _choose(browser, "Critical incidents of", "arn:aws:iam::123837392027:user/bert-jan")
    load_current(browser, "1 incident; severity critical", "DeleteTrail")
    frame = WebDriverWait(browser, 30).until(
        lambda d: next(
            (f for f in d.find_elements(By.TAG_NAME, "iframe")
             if "timeline-chart" in (f.get_attribute("srcdoc") or "")),
            None,
        )
    )  # fmt: skip
    # centred: Streamlit's fixed header would cover a frame scrolled to the top
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", frame)
    browser.switch_to.frame(frame)
    WebDriverWait(browser, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "svg.timeline-chart circle")
    )
    boxes = json.loads(
        browser.execute_script(
            """const svg = document.querySelector('svg.timeline-chart');
               return JSON.stringify({
                 dots: svg.querySelectorAll('circle').length,
                 labels: [...svg.querySelectorAll('text')].map(t => {
                   const b = t.getBoundingClientRect();
                   return {text: t.textContent, finding: t.classList.contains('finding'),
                           left: b.left, right: b.right, top: b.top, bottom: b.bottom};
                 }),
                 svg: (b => ({left: b.left, right: b.right}))(svg.getBoundingClientRect())});"""
        )
    )
    assert boxes["dots"] > 100  # the burst's records (those on one pixel share a dot)
    labels = [b for b in boxes["labels"] if b["right"] > b["left"]]
    flags = [b for b in labels if b["finding"]]
    assert flags, "the findings are flagged"
    overlaps = [
        (a["text"], b["text"])
        for i, a in enumerate(labels)
        for b in labels[i + 1 :]
        if a["left"] < b["right"] - 0.5
        and b["left"] < a["right"] - 0.5
        and a["top"] < b["bottom"] - 0.5
        and b["top"] < a["bottom"] - 0.5
    ]
    assert overlaps == []
    assert all(b["right"] <= boxes["svg"]["right"] + 0.5 for b in flags)
    browser.switch_to.default_content()
    shot = shots / "dashboard-timeline-stratus.png"
    assert frame.screenshot(str(shot))
    assert shot.stat().st_size > 5_000
