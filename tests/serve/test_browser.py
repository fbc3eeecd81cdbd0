"""The page in a real headless Chromium (Debian's `chromium` + `chromium-driver`, via Selenium).

Skips with the reason only where no Chromium/chromedriver can be found (`.ci/run` installs them).
Set SASHIMI_SERVE_SCREENSHOT=docs/serve.png to refresh the screenshot in the docs.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from sashimi.dsl.decompiler import decompile
from sashimi.dsl.parser import parse
from sashimi.dsl.pipeline import run_pipeline
from sashimi.dsl.printer import print_program
from sashimi.serve.app import create_app, dsl_lexicon

from .conftest import FakeGenerator, LiveServer

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="no Chromium + chromedriver on PATH (Debian: apt-get install chromium chromium-driver; .ci/run does)",
)

# Requests for the real model: one a Shortcut can do, one it cannot.
IN_DOMAIN = "ask how many glasses of water I drank and log it to Health"
OUT_OF_DOMAIN = "explain the causes of the French Revolution in three paragraphs"  # clearly not a Shortcut


@pytest.fixture
def browser(tmp_path: Path):
    os.environ.setdefault("SE_AVOID_STATS", "true")  # Selenium Manager must never phone home
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1100,1300",
    ):
        opts.add_argument(arg)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    opts.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(options=opts, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.set_page_load_timeout(20)
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver, seconds: float = 20):
    return WebDriverWait(driver, seconds)


def shown_program(driver) -> str:
    # Line numbers are CSS generated content, so the code element's text is the program itself.
    return driver.find_element(By.CSS_SELECTOR, "#program code").text


def no_horizontal_scroll(driver) -> bool:
    return driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def wait_for_download(folder: Path, seconds: float = 20) -> Path:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if p.suffix == ".shortcut"]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no .shortcut downloaded; folder has {[p.name for p in folder.iterdir()]}")


def test_generate_download_and_refusal(browser, shipped_generator, tmp_path):
    with LiveServer(create_app(shipped_generator)) as server:
        browser.get(server.url + "/")
        box = browser.find_element(By.ID, "prompt")
        assert browser.switch_to.active_element == box  # focused on load: type straight away
        box.send_keys(IN_DOMAIN)
        box.send_keys(Keys.ENTER)  # Enter submits
        wait(browser, 60).until(EC.visibility_of_element_located((By.ID, "program")))
        program = shown_program(browser)
        assert program.startswith("SHORTCUT ")
        validity = browser.find_element(By.ID, "validity").text
        assert "valid" in validity and "error(s)" in validity
        # Highlighting: every statement keyword and every action name is marked up.
        lines = [line.split() for line in program.splitlines() if line.strip()]
        keywords = set(dsl_lexicon()["keywords"])
        n_kw = sum(words[0] in keywords for words in lines)
        assert len(browser.find_elements(By.CSS_SELECTOR, "#program .line > .tok-kw:first-child")) == n_kw
        actions = browser.find_elements(By.CSS_SELECTOR, "#program .tok-action")
        assert [a.text for a in actions] == [words[1] for words in lines if words[0] == "ACTION"]
        assert browser.find_element(By.ID, "editor").get_attribute("value") == program + "\n"

        shot = tmp_path / "serve.png"
        browser.save_screenshot(str(shot))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if os.environ.get("SASHIMI_SERVE_SCREENSHOT"):
            browser.save_screenshot(os.environ["SASHIMI_SERVE_SCREENSHOT"])

        link = browser.find_element(By.ID, "download")
        assert link.get_attribute("aria-disabled") == "false"
        link.click()
        path = wait_for_download(browser.downloads)
        data = path.read_bytes()
        assert data.startswith(b"bplist00")
        catalog = shipped_generator.catalog
        back = decompile(data, catalog, file=path.name).ir
        shown = parse(program + "\n")
        # The file is the shown program: same name and actions in order, and it decompiles exactly
        # as the toolchain's own compilation of the shown text does (the decompiler's documented
        # normalisations, e.g. a handle compared as text, apply to both alike).
        assert back.name == shown.name
        assert [a.action_name for a in back.all_actions()] == [a.action_name for a in shown.all_actions()]
        expected = run_pipeline(program + "\n", catalog, do_lint=False).shortcut_bytes
        assert print_program(back) == print_program(decompile(expected, catalog, file=path.name).ir)

        box = browser.find_element(By.ID, "prompt")
        box.clear()
        box.send_keys(OUT_OF_DOMAIN + Keys.ENTER)
        message = browser.find_element(By.ID, "message")
        wait(browser, 60).until(EC.visibility_of(message))
        assert "cannot do this" in message.text
        assert not browser.find_element(By.ID, "result").is_displayed()


def test_a_spelling_correction_is_shown(browser):
    with LiveServer(create_app(FakeGenerator())) as server:
        browser.get(server.url + "/")
        browser.find_element(By.ID, "prompt").send_keys("log my watre" + Keys.ENTER)
        timing = browser.find_element(By.ID, "timing")
        wait(browser).until(lambda d: timing.text.strip())
        assert "read as: \u201clog my water\u201d" in timing.text
        browser.find_element(By.ID, "prompt").clear()
        browser.find_element(By.ID, "prompt").send_keys("log my water" + Keys.ENTER)
        wait(browser).until(lambda d: "read as" not in timing.text)


def test_edited_program_shows_located_error_then_recompiles(browser):
    # Only /api/compile is exercised here (no generation), so the generator is a test double.
    with LiveServer(create_app(FakeGenerator())) as server:
        browser.get(server.url + "/")
        editor = browser.find_element(By.ID, "editor")
        editor.send_keys('SHORTCUT "Tea"\nACTION comment WFCommentActionText="steep"\nIF $x bogus 3\nENDIF\n')
        editor.send_keys(Keys.CONTROL, Keys.ENTER)  # keyboard: Ctrl+Enter recompiles
        errors = browser.find_element(By.ID, "errors")
        wait(browser).until(lambda d: errors.text.strip())
        assert "line 3, column 7" in errors.text and "syntax" in errors.text
        assert "syntax error" in browser.find_element(By.ID, "validity").text
        marked = browser.find_elements(By.CSS_SELECTOR, "#program .line.error-line")
        assert [m.get_attribute("data-n") for m in marked] == ["3"]
        assert browser.find_element(By.ID, "download").get_attribute("aria-disabled") == "true"
        # The error link puts the caret on the located line.
        errors.find_element(By.CSS_SELECTOR, "button.goto").click()
        caret = browser.execute_script("return document.getElementById('editor').selectionStart")
        assert caret == editor.get_attribute("value").index("IF $x") + 6

        editor.clear()
        editor.send_keys('SHORTCUT "Tea"\nACTION comment WFCommentActionText="steep"\nACTION showresult Text="ready"\n')
        browser.find_element(By.ID, "recompile").click()
        wait(browser).until(lambda d: "valid (strict)" in d.find_element(By.ID, "validity").text)
        assert not browser.find_element(By.ID, "errors").text.strip()
        assert browser.find_element(By.ID, "download").get_attribute("aria-disabled") == "false"


def test_phone_width_layout(browser):
    with LiveServer(create_app(FakeGenerator())) as server:
        browser.set_window_size(390, 844)
        browser.get(server.url + "/")
        button = browser.find_element(By.ID, "generate")
        assert button.is_displayed() and button.size["width"] > 250  # full-width button on a phone
        assert no_horizontal_scroll(browser)
        editor = browser.find_element(By.ID, "editor")
        editor.send_keys('SHORTCUT "A very long program name that goes on"\nACTION showresult Text="' + "x" * 300 + '"\n')
        browser.find_element(By.ID, "recompile").click()
        wait(browser).until(lambda d: "valid" in d.find_element(By.ID, "validity").text)
        assert no_horizontal_scroll(browser)  # long code lines scroll inside the code box, not the page
