"""The search of the top bar (issue 14, point 3): one page, a section per kind of record,
everything within the user's area through each app's own `*_matching` selector.

Each section shows its first rows and its total; "all N" opens that section alone, paginated,
so that no result is silently left out.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from checklists.selectors import checklists_matching
from organizations.listing import page_of
from organizations.selectors import organizations_matching, people_matching
from reviews.selectors import sessions_matching
from scoring.selectors import projects_matching
from supervision.selectors import notices_matching, problems_matching

SHOWN = 10
MAX_QUERY = 50

SECTIONS = [
    ("organizations", _("Organizations"), organizations_matching),
    ("people", _("People"), people_matching),
    ("checklists", _("Checklists"), checklists_matching),
    ("problems", _("Problems"), problems_matching),
    ("notices", _("Notices"), notices_matching),
    ("projects", _("Secretary projects"), projects_matching),
    ("sessions", _("Work-report reviews"), sessions_matching),
]


@login_required
def search(request):
    query = request.GET.get("q", "").strip()[:MAX_QUERY]
    only = request.GET.get("section", "")
    sections = []
    if query:
        for key, label, matching in SECTIONS:
            if only and key != only:
                continue
            results = matching(request.user, query)
            page = page_of(request, results, per_page=SHOWN if not only else 50)
            sections.append({"key": key, "label": label, "page": page, "rows": page.object_list})
    total = sum(section["page"].paginator.count for section in sections)
    return render(
        request, "search.html", {"query": query, "sections": sections, "only": only, "total": total, "shown": SHOWN}
    )
