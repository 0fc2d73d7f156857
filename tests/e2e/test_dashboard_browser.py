"""The dashboard in a real browser: Debian's headless Chromium driven by playwright, against
`streamlit run app/streamlit_app.py` on marts the real pipeline produced from a small sandbox.

Signs in through the form, opens every page (a screenshot of each goes to test-artifacts/),
applies a sidebar filter (the URL query string follows), downloads the board report as PDF,
corrects one review item's sentiment, runs the pipeline again for that item's day and checks
the decision reached marts.duckdb (the corrected label shown, the model's label kept).

Needs /usr/bin/chromium, which `make test-slow` installs (`apt-get install -y chromium`); without
it the test fails, saying so, before any pipeline runs. playwright's own browser download is
never used. Marked slow: `make test` deselects it.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from app.access import hash_password
from connectors.imis_sandbox import SandboxServer
from orchestration.cli import prepare_environment, run_pipeline
from tests.conftest import PIPELINE_ENV_VARS

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.slow  # ~5-8 min on 2 shared cores, mostly the pipeline runs

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
FIRST, LAST = "2026-03-02", "2026-03-31"
USERNAME, PASSWORD = "director", "e2e browser password"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# nav label -> (url path, a text the page shows once it has rendered)
PAGES = {
    "Overview": ("", "Open high-urgency items"),
    "Topics": ("topics", "Verbatims"),
    "Segments": ("segments", "All segments"),
    "Emerging issues": ("emerging", "robust z"),
    "Review queue": ("review", "Item to review"),
    "Ask a question": ("ask", "Your question"),
    "Board report": ("report", "Top concerns by segment"),
}
TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def pipeline_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A month of a small sandbox through the real pipeline; the sandbox stays up for reruns."""
    tmp = tmp_path_factory.mktemp("browser")
    with (
        pytest.MonkeyPatch.context() as mp,
        SandboxServer(
            tmp / "sandbox", members=100, items=300, end_date=date(2026, 3, 31), days=30, seed=11
        ) as sandbox,
    ):
        for name in PIPELINE_ENV_VARS:
            mp.delenv(name, raising=False)
        mp.setenv("PULSE_HOME", str(tmp / "home"))
        mp.setenv("PULSE_START_DATE", FIRST)
        mp.setenv("PULSE_HMAC_SECRET", "e2e-browser-secret")
        mp.setenv("IMIS_BASE_URL", sandbox.url)
        mp.setenv("IMIS_USERNAME", "pulse")
        mp.setenv("IMIS_PASSWORD", "pulse-sandbox")
        settings = prepare_environment(os.environ)
        marts = run_pipeline(FIRST, LAST)
        users = tmp / "users.yaml"
        users.write_text(
            "users:\n"
            f"  - username: {USERNAME}\n"
            "    name: Dana Director\n"
            "    roles: [leadership, reviewer]\n"
            f"    password_hash: {hash_password(PASSWORD)}\n",
            encoding="utf-8",
        )
        yield {"home": settings.home, "marts": marts, "users": users, "env": dict(os.environ)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(pipeline_home: dict, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    env = {
        **pipeline_home["env"],
        "PULSE_HOME": str(pipeline_home["home"]),
        "PULSE_USERS_FILE": str(pipeline_home["users"]),
    }
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(REPO / "app" / "streamlit_app.py"),
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
                "--client.toolbarMode",
                "viewer",
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                        if reply.read() == b"ok":
                            break
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(
            "Debian's chromium is not installed (/usr/bin/chromium is missing): `make test-slow` "
            "installs it (apt-get update && apt-get install -y chromium)"
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def page(chromium: Path, app_url: str) -> Iterator[Page]:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(chromium),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1440, "height": 1100},
            accept_downloads=True,
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context.new_page()
        finally:
            context.close()


def _settle(page: Page) -> None:
    """Wait until the script run the last interaction started has finished."""
    page.wait_for_timeout(300)  # let the rerun request reach the server
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=TIMEOUT_MS
    )
    page.wait_for_timeout(300)


def _no_error_on(page: Page, name: str) -> None:
    assert page.get_by_test_id("stException").count() == 0, f"exception on {name}"
    errors = page.locator('[data-testid="stAlertContentError"]')
    assert errors.count() == 0, f"error on {name}: {errors.all_inner_texts()}"


def _screenshot(page: Page, name: str) -> None:
    """The whole page: the app scrolls inside its main block, so grow the viewport to fit it."""
    height = page.evaluate(
        "Math.max(...Array.from(document.querySelectorAll('[data-testid=stMain], "
        "[data-testid=stMainBlockContainer]')).map(e => e.scrollHeight), 0)"
    )
    page.set_viewport_size({"width": 1440, "height": min(max(int(height) + 80, 1100), 8000)})
    page.wait_for_timeout(800)  # charts re-layout to the new size
    page.screenshot(path=str(ARTIFACTS / f"browser_{name}.png"))
    page.set_viewport_size({"width": 1440, "height": 1100})


def _choose(page: Page, container, option: str) -> None:
    """Pick `option` in a Streamlit selectbox (the container holding its label)."""
    combobox = container.get_by_role("combobox")
    combobox.focus()
    combobox.press("ArrowDown")  # opens the list (a click toggles it, and may close it again)
    page.get_by_role("option", name=option, exact=True).click()
    _settle(page)


@pytest.mark.timeout(1800)  # two pipeline runs (dbt builds every model each time)
def test_dashboard_in_a_browser(page: Page, app_url: str, pipeline_home: dict) -> None:
    # --- sign in through the form
    page.goto(app_url)
    page.get_by_role("textbox", name="Username").fill(USERNAME)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Dana Director")).to_be_visible()
    _settle(page)
    expect(page).to_have_url(re.compile(r"period=30d"))

    # --- every page renders (a screenshot of each)
    nav = page.get_by_test_id("stTopNavLink")
    for label, (path, marker) in PAGES.items():
        nav.filter(has_text=label).click()
        page.wait_for_url(re.compile(rf"{re.escape(app_url)}/{path}(\?|$)"))
        _settle(page)
        expect(page.get_by_text(marker).first).to_be_visible()
        _no_error_on(page, label)
        _screenshot(page, path or "overview")

    # --- the board report downloads as PDF (built on click)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download PDF").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert download.value.suggested_filename.endswith(".pdf")

    # --- a sidebar filter is mirrored in the URL
    nav.filter(has_text="Overview").click()
    _settle(page)
    before = page.url
    sidebar = page.get_by_test_id("stSidebar")
    _choose(page, sidebar.get_by_test_id("stSelectbox").filter(has_text="Period"), "Last 90 days")
    expect(page).to_have_url(re.compile(r"period=90d"))
    assert page.url != before
    _no_error_on(page, "Overview (90 days)")

    # --- correct one review item's sentiment
    nav.filter(has_text="Review queue").click()
    _settle(page)
    item_box = page.get_by_test_id("stSelectbox").filter(has_text="Item to review")
    shown = item_box.get_by_role("combobox").input_value() or item_box.inner_text()
    item_id = re.search(r"· (\S+:\S+)\s*$", shown.strip().splitlines()[-1]).group(1)
    marts = pipeline_home["marts"]
    with duckdb.connect(str(marts), read_only=True) as con:
        model_label, day = con.execute(
            "select sentiment_label, created_date from fct_feedback where item_id = ?", [item_id]
        ).fetchone()
    corrected = "positive" if model_label != "positive" else "neutral"
    form = page.get_by_test_id("stForm").filter(has_text="Your decision")
    _choose(page, form.get_by_test_id("stSelectbox").filter(has_text="Sentiment"), corrected)
    form.get_by_role("button", name="Record decision").click()
    _settle(page)
    expect(page.get_by_text(f"recorded for {item_id} by {USERNAME}")).to_be_visible()
    _no_error_on(page, "Review queue (decided)")
    _screenshot(page, "review_decided")

    # --- the next pipeline run for that day brings the decision into the marts
    run_pipeline(day.isoformat(), day.isoformat())
    with duckdb.connect(str(marts), read_only=True) as con:
        label, model, overridden = con.execute(
            "select sentiment_label, model_sentiment_label, is_sentiment_overridden "
            "from fct_feedback where item_id = ?",
            [item_id],
        ).fetchone()
    assert (label, model, overridden) == (corrected, model_label, True)
