"""Fixtures for the browser end-to-end tests: settings from the environment, a headless Chromium.

Run through tests/e2e/run.sh, which installs Debian's chromium and chromium-driver when missing.
Nothing here downloads a browser or a driver: Selenium is pointed at /usr/bin/chromedriver, so its
selenium-manager never runs.
"""

from __future__ import annotations

import os
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    url: str
    password: str = field(repr=False)  # tracebacks print the settings
    screenshot: Path
    timeout: float
    kernel: str
    chromium: str
    chromedriver: str


def _repo_path(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else REPO / path


def insecure_tls() -> ssl.SSLContext:
    # The lab's HAProxy presents a self-signed certificate; the test checks Jupyter, not the PKI.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@pytest.fixture(scope="session")
def settings() -> Settings:
    url = os.environ.get("E2E_URL", "https://127.0.0.1:8443/")
    if not url.endswith("/"):
        url += "/"
    password_file = _repo_path(os.environ.get("E2E_PASSWORD_FILE", ".lab/jupyter_password"))
    try:
        password = password_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        pytest.fail(
            f"cannot read the Jupyter password from {password_file} ({exc.strerror}): "
            "run `make lab` first, or set E2E_PASSWORD_FILE",
            pytrace=False,
        )
    if not password:
        pytest.fail(f"{password_file} is empty", pytrace=False)
    return Settings(
        url=url,
        password=password,
        screenshot=_repo_path(os.environ.get("E2E_SCREENSHOT", ".lab/e2e-notebook.png")),
        timeout=float(os.environ.get("E2E_TIMEOUT", "120")),
        kernel=os.environ.get("E2E_KERNEL", "Python"),
        chromium=os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"),
        chromedriver=os.environ.get("E2E_CHROMEDRIVER", "/usr/bin/chromedriver"),
    )


@pytest.fixture(scope="session")
def lab_answers(settings: Settings) -> None:
    """Fail with one clear line, before a browser starts, when nothing serves the URL."""
    problem = None
    try:
        with urllib.request.urlopen(settings.url, timeout=15, context=insecure_tls()) as response:
            response.read(1)
    except urllib.error.HTTPError as exc:
        # Any HTTP answer below 500 means Jupyter is there; the browser test judges what it serves.
        if exc.code >= 500:
            problem = f"answers HTTP {exc.code}: is Jupyter behind the proxy running?"
    except (urllib.error.URLError, OSError) as exc:
        problem = f"does not answer ({getattr(exc, 'reason', exc)}): start the lab with `make lab`, or set E2E_URL"
    if problem:
        pytest.fail(f"{settings.url} {problem}", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item so the driver fixture knows whether the test failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def driver(settings: Settings, lab_answers: None, request: pytest.FixtureRequest):
    for path in (settings.chromium, settings.chromedriver):
        if not os.access(path, os.X_OK):
            pytest.fail(f"{path} is missing: run tests/e2e/run.sh, which installs chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = settings.chromium
    options.add_argument("--headless=new")
    # We run as root, and Chromium refuses to start its sandbox as root.
    options.add_argument("--no-sandbox")
    # Only because the lab's certificate is self-signed; nothing else about TLS is relaxed.
    options.add_argument("--ignore-certificate-errors")
    options.add_argument("--window-size=1400,900")
    options.add_argument("--disable-gpu")
    options.add_argument("--no-first-run")
    # An explicit driver path: Selenium then never runs selenium-manager (which would download).
    failure = settings.screenshot.with_name(settings.screenshot.stem + "-failure.png")
    failure.unlink(missing_ok=True)  # an old failure's picture must not pass for this run's
    browser = webdriver.Chrome(service=Service(executable_path=settings.chromedriver), options=options)
    yield browser
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        failure.parent.mkdir(parents=True, exist_ok=True)
        if browser.save_screenshot(str(failure)):
            print(f"\nfailure screenshot: {failure} (page: {browser.current_url})")
    browser.quit()
