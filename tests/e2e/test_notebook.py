"""A user's first minutes in the lab, in a real headless Chromium.

Log in with the password, create a Python notebook from the launcher, run a cell, read its output,
save, take a screenshot, then check through the REST API (with the browser's session) that the saved
file holds the cell and its output. The notebook and its kernel are removed at the end.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request

from conftest import Settings, insecure_tls
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver import ActionChains, Keys
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

CODE = "print(6 * 7, __import__('os').getuid())"
OUTPUT = re.compile(r"^42 (\d+)$")

PASSWORD_INPUT = (By.CSS_SELECTOR, "input[type=password][name=password]")
LAB_SHELL = (By.CSS_SELECTOR, "#jp-main-dock-panel")
CURRENT_TAB = "#jp-main-dock-panel .lm-TabBar-tab.jp-mod-current"
NOTEBOOK_PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
NOTEBOOK = f"{NOTEBOOK_PANEL} .jp-Notebook"
DIALOG = (By.CSS_SELECTOR, ".jp-Dialog")


class Api:
    """The Jupyter REST API, called with the cookies of the browser's session."""

    def __init__(self, settings: Settings, browser: WebDriver | None) -> None:
        self.base = settings.url
        cookies = browser.get_cookies() if browser else []
        self.headers = {"Cookie": "; ".join(f"{c['name']}={c['value']}" for c in cookies)} if cookies else {}
        xsrf = next((c["value"] for c in cookies if c["name"] == "_xsrf"), None)
        if xsrf:
            # Jupyter refuses state-changing calls without the _xsrf token matching the cookie.
            self.headers["X-XSRFToken"] = xsrf

    def call(self, method: str, path: str) -> tuple[int, object]:
        request = urllib.request.Request(self.base + path, method=method, headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=30, context=insecure_tls()) as response:
                body = response.read()
                return response.status, json.loads(body) if body else None
        except urllib.error.HTTPError as exc:
            return exc.code, None


def contents_path(path: str) -> str:
    return "api/contents/" + urllib.parse.quote(path)


def wait(browser: WebDriver, settings: Settings, what: str, condition, timeout: float | None = None):
    try:
        return WebDriverWait(
            # A page that navigates or re-renders mid-check leaves stale elements: look again.
            browser,
            timeout or settings.timeout,
            poll_frequency=0.2,
            ignored_exceptions=[StaleElementReferenceException],
        ).until(condition)
    except TimeoutException:
        raise AssertionError(
            f"timed out after {timeout or settings.timeout:.0f} s waiting for {what} (page: {browser.current_url})"
        ) from None


def css(selector: str):
    """A condition returning the first visible element matching selector, or False."""

    def found(browser: WebDriver):
        return next((e for e in browser.find_elements(By.CSS_SELECTOR, selector) if e.is_displayed()), False)

    return found


def press(browser: WebDriver, modifier: str, key: str) -> None:
    ActionChains(browser).key_down(modifier).send_keys(key).key_up(modifier).perform()


def log_in(browser: WebDriver, settings: Settings) -> None:
    browser.get(settings.url)
    field = wait(browser, settings, "the login page", ec.visibility_of_element_located(PASSWORD_INPUT), 30)
    assert "/login" in urllib.parse.urlparse(browser.current_url).path, (
        f"an unauthenticated visit should land on the login page, got {browser.current_url}"
    )
    assert not browser.find_elements(*LAB_SHELL), "JupyterLab rendered before logging in"
    field.send_keys(settings.password)
    field.submit()
    wait(browser, settings, "the login form to be posted", ec.staleness_of(field), 30)
    landed = wait(
        browser,
        settings,
        "JupyterLab after logging in",
        ec.any_of(ec.presence_of_element_located(LAB_SHELL), ec.visibility_of_element_located(PASSWORD_INPUT)),
    )
    assert landed.get_attribute("id") == LAB_SHELL[1].lstrip("#"), (
        f"the lab refused the password from the password file (still on {browser.current_url})"
    )


def new_notebook(browser: WebDriver, settings: Settings) -> None:
    # A workspace of our own, reset: the launcher shows, and neither the user's open tabs nor an
    # earlier run's are restored.
    browser.get(settings.url + "lab/workspaces/e2e?reset")
    wait(browser, settings, "JupyterLab in the e2e workspace", ec.presence_of_element_located(LAB_SHELL))
    cards = ".jp-Launcher .jp-LauncherCard[data-category='Notebook']"
    wait(browser, settings, "the launcher's Notebook tiles", css(cards))
    tiles = [c for c in browser.find_elements(By.CSS_SELECTOR, cards) if c.is_displayed()]
    wanted = [c for c in tiles if settings.kernel.lower() in (c.get_attribute("title") or c.text).lower()]
    assert wanted, f"no Notebook tile for a {settings.kernel!r} kernel: {[c.get_attribute('title') for c in tiles]}"
    wanted[0].click()
    wait(browser, settings, "the new notebook's first cell", css(f"{NOTEBOOK} .jp-Cell .cm-content"))


def run_cell(browser: WebDriver, settings: Settings) -> str:
    """Type CODE in the first cell, Shift+Enter, return the output."""
    first = f"{NOTEBOOK} .jp-Cell:first-child"
    editor = wait(browser, settings, "the first cell's editor", css(f"{first} .cm-content"))
    editor.click()
    editor.send_keys(CODE)
    typed = "\n".join(line.text for line in editor.find_elements(By.CSS_SELECTOR, ".cm-line"))
    assert typed == CODE, f"the cell holds {typed!r} after typing (auto-closed brackets?)"

    def queued(browser: WebDriver) -> bool:
        # "[*]:" once the run is queued, "[1]:" once done; "[ ]:" while nothing was sent.
        return bool(re.search(r"\[[*\d]+\]", browser.find_element(By.CSS_SELECTOR, f"{first} .jp-InputPrompt").text))

    def kernel_ready(browser: WebDriver) -> bool:
        # JupyterLab silently drops a run asked for before the notebook has its kernel, and the
        # toolbar's status indicator says "idle" by default while the kernel is still "No Kernel":
        # wait for both a kernel name and an idle status.
        panel = f"{NOTEBOOK_PANEL} .jp-NotebookPanel-toolbar"
        name = browser.find_element(By.CSS_SELECTOR, f"{panel} [data-jp-item-name='kernelName']").text.strip()
        status = browser.find_element(By.CSS_SELECTOR, f"{panel} .jp-Notebook-ExecutionIndicator")
        return name not in ("", "No Kernel") and status.get_attribute("data-status") == "idle"

    wait(browser, settings, "the notebook's kernel to be connected and idle", kernel_ready)
    press(browser, Keys.SHIFT, Keys.ENTER)
    wait(browser, settings, "the run to reach the kernel (prompt '[*]' or '[1]')", queued, 10)

    def output(browser: WebDriver):
        areas = browser.find_elements(By.CSS_SELECTOR, f"{first} .jp-OutputArea-output")
        text = areas[0].text.strip() if areas else ""
        return text or False

    text = wait(browser, settings, "the cell's output", output)
    assert OUTPUT.match(text), f"the cell printed {text!r}, expected '42 <uid>'"
    return text


def save(browser: WebDriver, settings: Settings) -> str:
    """Ctrl+S; answers JupyterLab 4's "rename before first save" dialog. Returns the notebook's name."""
    press(browser, Keys.CONTROL, "s")

    def dialog_or_saved(browser: WebDriver):
        if browser.find_elements(*DIALOG):
            return "dialog"
        tab = browser.find_element(By.CSS_SELECTOR, CURRENT_TAB)
        return "saved" if "jp-mod-dirty" not in (tab.get_attribute("class") or "") else False

    if wait(browser, settings, "the save (or its rename dialog)", dialog_or_saved, 60) == "dialog":
        name = time.strftime("e2e-%Y%m%d-%H%M%S.ipynb", time.gmtime())
        field = browser.find_element(By.CSS_SELECTOR, ".jp-Dialog input[type=text], .jp-Dialog input:not([type])")
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(name)
        browser.find_element(By.CSS_SELECTOR, ".jp-Dialog .jp-mod-accept").click()
        wait(browser, settings, "the dialog to close", ec.invisibility_of_element_located(DIALOG), 30)

        def saved_as(browser: WebDriver):
            tab = browser.find_element(By.CSS_SELECTOR, CURRENT_TAB)
            clean = "jp-mod-dirty" not in (tab.get_attribute("class") or "")
            return clean and tab.text.strip() == name

        wait(browser, settings, f"the notebook saved as {name}", saved_as, 60)
    return browser.find_element(By.CSS_SELECTOR, f"{CURRENT_TAB} .lm-TabBar-tabLabel").text.strip()


def current_path(browser: WebDriver, settings: Settings, name: str) -> str:
    """The notebook's path on the server: the kernel session that the notebook opened names it."""
    status, sessions = Api(settings, browser).call("GET", "api/sessions")
    assert status == 200, f"GET api/sessions answered {status}"
    paths = [s["path"] for s in sessions if s["path"].rsplit("/", 1)[-1] == name]
    assert len(paths) == 1, f"expected one session for {name}, got {[s['path'] for s in sessions]}"
    return paths[0]


def clean_up(browser: WebDriver, settings: Settings, path: str) -> None:
    api = Api(settings, browser)
    status, sessions = api.call("GET", "api/sessions")
    for session in sessions or []:
        if session["path"] == path:
            api.call("DELETE", f"api/sessions/{session['id']}")
    status, _ = api.call("DELETE", contents_path(path))
    assert status == 204, f"DELETE {contents_path(path)} answered {status}"


def test_login_run_cell_save(driver: WebDriver, settings: Settings) -> None:
    steps: dict[str, float] = {}
    start = time.monotonic()

    def step(name: str) -> None:
        steps[name] = round(time.monotonic() - start - sum(steps.values()), 1)

    log_in(driver, settings)
    step("login")
    new_notebook(driver, settings)
    step("notebook")
    printed = run_cell(driver, settings)
    step("cell")
    name = save(driver, settings)
    path = current_path(driver, settings, name)
    step("save")
    settings.screenshot.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(settings.screenshot)), f"could not write {settings.screenshot}"
    try:
        status, _ = Api(settings, None).call("GET", contents_path(path))
        assert status in (401, 403), f"the contents API answered {status} without the session's cookies"
        status, model = Api(settings, driver).call("GET", contents_path(path) + "?content=1")
        assert status == 200, f"GET {contents_path(path)} answered {status}"
        assert model["type"] == "notebook", model["type"]
        cell = model["content"]["cells"][0]
        assert cell["source"] == CODE, f"saved source: {cell['source']!r}"
        texts = [o.get("text", "") for o in cell["outputs"] if o.get("output_type") == "stream"]
        assert texts and texts[0].strip() == printed, f"saved outputs: {cell['outputs']!r}"
        step("api")
    finally:
        clean_up(driver, settings, path)
    print(f"\nnotebook {path}: printed {printed!r}; seconds per step: {steps}")
    print(f"screenshot: {settings.screenshot}")
