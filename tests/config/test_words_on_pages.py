"""No English in front of users (issue 11, point 14): every kind of page each demo role
reaches from its home, walked by following links, shows no ASCII word outside a short list."""

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

from organizations.models import User

# Words a Chinese user reads as they are: file types, brands and the language switch.
ALLOWED = {
    "PDF",
    "JPEG",
    "JPG",
    "PNG",
    "HEIC",
    "Word",
    "Excel",
    "PowerPoint",
    "WPS",
    "CSV",
    "xlsx",
    "csv",
    "xls",
    "docx",
    "pptx",
    "pdf",
    "jpg",
    "png",
    "QR",
    "PK",
    "English",
    "SMS",
    # File sizes (filesizeformat): "30.2 KB" beside the demo's evidence.
    "KB",
    "MB",
    "GB",
}
# Codes such as ZB01 or SJXM2026-03 are data, not words.
WORD = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z][A-Za-z_'-]+(?![A-Za-z0-9_-])")
# Pages that write, leave or download instead of showing a page.
SKIP = re.compile(r"^/(logout|i18n|admin|vote)/|/export|/download|/attachments/|\.xlsx$|print")
ROLES = [
    "zj_viewer",
    "wc_admin",
    "wc_staff",
    "wc_supervisor",
    "wc_judge",
    "ml_secretary",
    "ml_clerk",
    "village_secretary",
]
PAGES_PER_ROLE = 60


class VisibleText(HTMLParser):
    """The text a user sees: text nodes (not scripts or styles), placeholders, button values, titles."""

    HIDDEN = {"script", "style", "template"}

    def __init__(self):
        super().__init__()
        self.parts, self.links, self._hidden = [], [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.HIDDEN:
            self._hidden += 1
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        for name in ("placeholder", "title", "aria-label", "alt"):
            if attrs.get(name):
                self.parts.append(attrs[name])
        if tag == "input" and attrs.get("type") in {"submit", "button"} and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def _kind(path):
    """Pages of one kind differ by ids only: /checklists/12/ and /checklists/13/ are one kind."""
    return re.sub(r"\d+", "#", path)


def english_on_pages(client, *, allowed=frozenset(), limit=PAGES_PER_ROLE, start=("/",), follow=True):
    """{path: sorted ASCII words} over the pages reached from home, one page of each kind."""
    found, seen_kinds, queue = {}, set(), list(start)
    while queue and len(seen_kinds) < limit:
        url = queue.pop(0)
        split = urlsplit(url)
        if split.netloc or (follow and SKIP.search(split.path)) or _kind(url) in seen_kinds:
            continue
        seen_kinds.add(_kind(url))
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        parser = VisibleText()
        parser.feed(response.content.decode())
        words = {w for w in WORD.findall(" ".join(parser.parts)) if w not in ALLOWED and w not in allowed}
        if words:
            found[url] = sorted(words)
        for href in parser.links if follow else []:
            target = urljoin(url, href).split("#")[0]
            if target.startswith("/") and _kind(target) not in seen_kinds:
                queue.append(target)
    return found


@pytest.mark.django_db
def test_the_demo_pages_show_no_english_to_any_role():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    usernames = set(User.objects.values_list("username", flat=True))
    english = {}
    for username in ROLES:
        client = Client()
        client.force_login(User.objects.get(username=username))
        # An administrator's account list names the login names: that is what they are for.
        found = english_on_pages(client, allowed=usernames if username in {"wc_admin", "admin"} else frozenset())
        english.update({f"{username} {url}": words for url, words in found.items()})
    english.update(_english_in_admin_history(usernames))
    assert english == {}


def _english_in_admin_history(usernames):
    """The admin's history pages: states by label, times local, no "None" (superusers only)."""
    from checklists.models import LedgerEntry
    from supervision.models import Problem

    client = Client()
    client.force_login(User.objects.get(username="admin"))
    pages = [
        f"/admin/checklists/ledgerentry/{LedgerEntry.objects.filter(status='approved').first().pk}/history/",
        f"/admin/supervision/problem/{Problem.objects.filter(status='closed').first().pk}/history/",
        f"/admin/organizations/user/{User.objects.get(username='wc_staff').pk}/history/",
    ]
    return english_on_pages(client, allowed=usernames, start=pages, follow=False)
