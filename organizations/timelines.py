"""The operation log on a record's page (DESIGN.md: "shown as a timeline on checklists, items,
entries and problems"; organizations and review sessions have one too), folded at the foot of
the page and read when the fold is opened. The page itself reads no history: on an organization
page the timeline took a third of the time (benchmarks/pages.py), and most visits never look.

A page includes organizations/_log_fold.html, and its view starts with

    if wants_log(request):
        return log_response(request, record, lambda: selectors.record_timeline(record))

right after it has checked that the user may see the record, so that the log is scoped exactly
as the page is. The fold asks for `?part=log` with htmx and gets the timeline alone; without
JavaScript its link opens the same address as a page of its own.
"""

from django.shortcuts import render
from django.utils.cache import patch_vary_headers

PART = "log"


def wants_log(request):
    """Whether the request asks for the page's operation log rather than the page."""
    return request.method == "GET" and request.GET.get("part") == PART


def log_response(request, subject, timeline):
    """The operation log of `subject` (a record whose page the user may see): `timeline()`'s
    entries, alone for the fold (htmx) or as a page of their own."""
    template = "organizations/_timeline.html" if request.htmx else "organizations/log_page.html"
    response = render(request, template, {"subject": subject, "timeline": timeline()})
    patch_vary_headers(response, ["HX-Request"])  # one address, two bodies
    return response
