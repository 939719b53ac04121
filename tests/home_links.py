"""Shared by the home tests: every count on a home page against the list it links to."""

import re

TILE = re.compile(
    r'<a class="tile[^"]*" href="([^"]+)"(?: data-match="([^"]+)")?><strong data-count="(\w+)">(\d+)</strong>'
)
TOTAL = re.compile(r'data-total(?:="([^"]*)")?[^>]*>(\d+)<')


def tiles(html):
    """[(count name, value, link, which total of the list to compare)] of a home page."""
    return [(key, int(value), href.replace("&amp;", "&"), match) for href, match, key, value in TILE.findall(html)]


def list_total(html, match=None):
    totals = {name: int(value) for name, value in TOTAL.findall(html)}
    if match:
        return totals[match]
    assert totals, "the list shows no total"
    return next(iter(totals.values()))


def mismatches(get, home_html):
    """Counts that differ from the total of the list they open; `get(url)` returns the page."""
    found = []
    for key, value, href, match in tiles(home_html):
        total = list_total(get(href), match)
        if total != value:
            found.append((key, value, href, total))
    return found
