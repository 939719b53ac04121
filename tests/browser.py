"""Shared by the browser tests: log in as a demo user, take screenshots, check the width."""

from pathlib import Path

SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 768}
PASSWORD = "zhanjiang2026"
# What Chromium reported refusing under the Content-Security-Policy (config/middleware.py) during
# the current test; tests/conftest.py fails a browser test that leaves anything here.
CSP_VIOLATIONS = []


def watch_csp(page):
    def seen(message):
        if "Content Security Policy" in message.text:
            CSP_VIOLATIONS.append(f"{page.url}: {message.text}")

    page.on("console", seen)
    return page


def new_page(browser, viewport):
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.on("page", watch_csp)
    return watch_csp(context.new_page())


def login(browser, live_server, username, viewport):
    page = new_page(browser, viewport)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    return page


def shot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def fits(page):
    """No sideways scrolling: the page is no wider than the screen."""
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
