"""The web UI in a real browser (Debian's headless chromium): log in, force a build, see it start."""

from __future__ import annotations

import pytest


pytestmark = [pytest.mark.integration, pytest.mark.network]

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def test_login_force_and_see_the_build_start(farm, browser, tmp_path):
    _, api, password = farm
    wait = WebDriverWait(browser, 60)
    host = api.url.split("://", 1)[1]
    # Top-level navigation with credentials answers Buildbot's basic-auth login; it sets the
    # session cookie and redirects to the UI.
    browser.get(f"https://admin:{password}@{host}/auth/login")
    builder = api.builder_id("wheelhouse-b1-bookworm")
    browser.get(f"{api.url}/#/builders/{builder}")
    wait.until(ec.presence_of_element_located((By.XPATH, "//*[contains(text(), 'admin')]")))
    wait.until(ec.element_to_be_clickable((By.XPATH, "//button[normalize-space()='Build']"))).click()
    reason = wait.until(ec.visibility_of_element_located((By.XPATH, "//div[contains(@class,'modal')]//input[@type='text']")))
    reason.send_keys("Forced from the browser")
    browser.find_element(By.XPATH, "//div[contains(@class,'modal')]//button[normalize-space()='Start build']").click()
    api.wait(lambda: api.builds("wheelhouse-b1-bookworm"), 60, "the forced build")
    build = api.builds("wheelhouse-b1-bookworm")[0]
    assert build["properties"]["reason"][0] == "Forced from the browser"
    assert build["properties"]["owner"][0] == "admin"
    browser.get(f"{api.url}/#/builders/{builder}/builds/{build['number']}")
    wait.until(ec.presence_of_element_located((By.XPATH, "//*[contains(., 'wheelhouse')]")))
    browser.save_screenshot(str(tmp_path / "forced-build.png"))
    assert (tmp_path / "forced-build.png").stat().st_size > 0
    # Let the build finish before the fixture stops the master: its outcome is checked elsewhere.
    api.wait(lambda: api.builds("wheelhouse-b1-bookworm")[0]["complete"], 600, "the build to finish")
