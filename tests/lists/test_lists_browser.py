"""The list pages, the search and the charts on a phone and a desktop, with screenshots
(screenshots/lists-*.png): filters, totals and charts fit the screen."""

import pytest
from django.core.management import call_command

from tests.browser import DESKTOP, PHONE, fits, login, shot

PAGES = {
    "board": "/problems/?org=440883",
    "board-filtered": "/problems/?org=440883&colour=red&sort=-deadline",
    "progress": "/checklists/progress/?org=440883",
    "search": "/search/?q=梅录",
    "review": "/checklists/review/",
    "admonishments": "/problems/admonishments/",
}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_list_pages_search_and_charts_fit_a_phone_and_a_desktop(live_server, browser):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    too_wide = {}
    for device, viewport in [("phone", PHONE), ("desktop", DESKTOP)]:
        page = login(browser, live_server, "wc_staff", viewport)
        for name, url in PAGES.items():
            page.goto(f"{live_server.url}{url}")
            shot(page, f"lists-{name}-{device}")
            if not fits(page):
                too_wide[f"{name}-{device}"] = page.evaluate("document.documentElement.scrollWidth")
        # the search box of the top bar leads to the results page
        page.goto(f"{live_server.url}/")
        page.locator(".topsearch input").fill("吴川")
        page.locator(".topsearch input").press("Enter")
        page.wait_for_url("**/search/?q=*")
        assert page.locator("section.card h2").count() >= 1
    assert not too_wide, too_wide
