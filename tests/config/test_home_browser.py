"""Each demo role's home in Chromium on a 360×640 phone and a 1366×768 desktop: real counts
from the demo, each equal to the list it opens, and no page wider than the screen."""

import pytest
from django.core.management import call_command
from django.test import Client

from organizations.models import User
from tests.browser import DESKTOP, fits, login, shot
from tests.home_links import mismatches, tiles

PHONE = {"width": 360, "height": 640}
ROLES = [
    "village_secretary",
    "ml_secretary",
    "ml_clerk",
    "wc_staff",
    "wc_supervisor",
    "wc_judge",
    "zj_viewer",
    "zj_staff",
    "wc_education",
    "wc_admin",
]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_each_demo_role_has_a_home_that_fits_and_counts_true(live_server, browser):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    for username in ROLES:
        client = Client()
        client.force_login(User.objects.get(username=username))

        def get(url, client=client, username=username):
            response = client.get(url)
            assert response.status_code == 200, (username, url)
            return response.content.decode()

        home = get("/")
        assert mismatches(get, home) == [], username
        for name, viewport in [("phone", PHONE), ("desktop", DESKTOP)]:
            page = login(browser, live_server, username, viewport)
            page.locator("h1").wait_for()
            shot(page, f"home-{username}-{name}")
            assert fits(page), f"{username}'s home scrolls sideways on the {name}"
            page.context.close()
    # The demo's village secretary has the three overdue occurrences of issue 14 on her home.
    client = Client()
    client.force_login(User.objects.get(username="village_secretary"))
    counts = {key: value for key, value, _href, _match in tiles(client.get("/").content.decode())}
    assert counts["overdue"] == 3
