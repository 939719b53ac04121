"""The check that a record's page folds its operation log (organizations/timelines.py), for the
tests of each page that has one."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext


def timeline_of(html):
    """The operation log's list alone, so that the layout (the user's own name) does not count."""
    found = re.search(r'<ol class="timeline">.*?</ol>', html, re.S)
    assert found, "no operation log"
    return found.group(0)


def assert_log_folded(client, url, *, marker, outsider):
    """The page at `url` reads no history and folds its log; `?part=log` gives the timeline, with
    `marker` in it, alone for the fold (htmx) and as a page of its own without JavaScript; and
    it is scoped as the page is: `outsider` (a client logged in outside the area) gets 404."""
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
    assert page.status_code == 200
    assert f'hx-get="{url}?part=log"' in page.text
    assert f'href="{url}?part=log"' in page.text  # without JavaScript
    assert '<ol class="timeline">' not in page.text
    assert not [query["sql"] for query in queries if "historical" in query["sql"]]

    fragment = client.get(f"{url}?part=log", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert marker in timeline_of(fragment.text)
    assert "HX-Request" in fragment["Vary"]

    whole = client.get(f"{url}?part=log")
    assert "<html" in whole.text
    assert marker in timeline_of(whole.text)
    assert f'href="{url}"' in whole.text  # back to the page

    for headers in ({"HX-Request": "true"}, {}):
        assert outsider.get(f"{url}?part=log", headers=headers).status_code == 404
