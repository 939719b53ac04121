"""Every person's home page: what to do now, by role (DESIGN.md 1 and 7, issue 14).

Like the menu, the home knows every app, so it lives at the project level and reads each app
only through its selectors. Each item is a count that links to the list it was counted from,
with the same parameters, so the list shows the same number. Every section costs a fixed
number of queries whatever the size of the area: counts are grouped in the database on the
spine's constant path prefix (organizations.subtree), never per row.
"""

from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from checklists import selectors as checklists
from config.links import link
from notifications.selectors import unread_count
from organizations.models import Level, Pairing, PairingReport, Role
from organizations.permissions import role_assignments_of
from reviews import selectors as reviews
from scoring import selectors as scoring
from scoring.models import SchemeResult, SchemeState, SheetStatus
from supervision import selectors as supervision

# What each role's section shows, in the order the sections appear when a user holds several.
ORDER = [Role.SECRETARY, Role.CLERK, Role.STAFF, Role.SUPERVISOR, Role.VIEWER, Role.JUDGE, Role.ADMIN]


@dataclass
class Section:
    kind: str  # the template partial: home/_<kind>.html
    role: str
    organization: object = None
    data: dict = field(default_factory=dict)


def _url(name, **query):
    url = link(name)
    return f"{url}?{'&'.join(f'{key}={value}' for key, value in query.items())}" if query else url


def _bars(children):
    """Completion bars for the children: width in percent (0 when nothing is due)."""
    for child in children:
        child.width = float(child.rate) if child.rate is not None else 0
    return children


def _trend(organization, *, year, today):
    """The monthly trend as columns of a small server-side SVG: occurrences due in each month
    and those done, scaled to the busiest month."""
    months = {row["month"].month: row for row in checklists.progress_by_month(organization, year=year, today=today)}
    peak = max([row["due"] for row in months.values()] or [0]) or 1
    columns = []
    for number in range(1, 13):
        row = months.get(number, {"due": 0, "done": 0, "overdue": 0})
        due_height, done_height = row["due"] * 80 / peak, row["done"] * 80 / peak
        columns.append(
            {
                "month": number,
                "x": (number - 1) * 30 + 4,
                "due": row["due"],
                "done": row["done"],
                "overdue": row["overdue"],
                "due_y": 90 - due_height,
                "due_height": due_height,
                "done_y": 90 - done_height,
                "done_height": done_height,
            }
        )
    return columns


def _own(organization, user, today):
    """The secretary's or clerk's own organization: what to do today."""
    counts = checklists.home_own_counts(organization, today=today)
    problems = supervision.home_problem_counts(organization, user, unit=True, today=today)
    code = organization.code
    board = reverse("supervision:board")
    returned = checklists.records_returned(organization, user, own=True)
    return {
        "counts": counts,
        "returned_meetings": list(returned["meetings"][:3]),
        "returned_entries": list(returned["entries"][:3]),
        "problems": problems,
        "next_problems": supervision.problems_next(organization, user, unit=True, today=today),
        "due_soon": list(checklists.occurrences_due(organization, user, when="soon", own=True, today=today)[:5]),
        "overdue": list(checklists.occurrences_due(organization, user, when="overdue", own=True, today=today)[:5]),
        "links": {
            "overdue": _url("checklists:due", org=code, when="overdue", own=1),
            "soon": _url("checklists:due", org=code, when="soon", own=1),
            "unclaimed": _url("checklists:unclaimed", org=code, own=1),
            "returned": _url("checklists:returned", org=code, own=1),
            "duty": _url("checklists:duty", org=code),
            "problems": {
                status: f"{board}?org={code}&unit=1&status={status}"
                for status in ["listed", "claimed", "rectifying", "overdue"]
            },
        },
    }


def _children(organization, user, year, today):
    """The organizations below, each with completion, overdue occurrences, unclaimed
    checklists, records waiting and overdue problems (every child, with zeros)."""
    children = checklists.home_children(organization, user, year=year, today=today)
    problems = {row.code: row for row in supervision.board(organization, user, today=today)}
    for child in children:
        row = problems.get(child.code)
        child.problems_open = row.open if row else 0
        child.problems_overdue = row.overdue if row else 0
    return _bars(children)


def _area_totals(organization, user, year, today):
    summary = checklists.progress_summary(organization, year=year, today=today)
    code = organization.code
    return {
        "summary": summary,
        "rate": checklists.rate(summary["done"], summary["due"]),
        "unclaimed": checklists.checklists_unclaimed(organization, user).count(),
        "problems": supervision.home_problem_counts(organization, user, today=today),
        "links": {
            "overdue": _url("checklists:due", org=code, when="overdue"),
            "soon": _url("checklists:due", org=code, when="soon"),
            "unclaimed": _url("checklists:unclaimed", org=code),
            "progress": _url("checklists:progress", org=code, year=year),
            "board": _url("supervision:board", org=code),
            "problems_overdue": _url("supervision:board", org=code, status="overdue"),
        },
    }


def _ranking(user, organization):
    """The latest assessment of the area with results: its top five."""
    scheme = (
        scoring.schemes_readable(user)
        .filter(
            Q(owner=organization) | Q(owner__path__startswith=organization.path),
            state__in=[SchemeState.AGGREGATED, SchemeState.PUBLISHED, SchemeState.FINAL],
        )
        .order_by("-year", "-pk")
        .first()
    )
    if scheme is None:
        return None
    top = list(
        SchemeResult.objects.filter(scheme=scheme)
        .select_related("organization__parent__parent")
        .order_by("rank", "organization__path")[:5]
    )
    return {"scheme": scheme, "top": top}


def _overview(organization, user, year, today):
    rows, overall = reviews.grade_shares_by_child(organization, user, year=year)
    return {
        "children": _children(organization, user, year, today),
        "totals": _area_totals(organization, user, year, today),
        "trend": _trend(organization, year=year, today=today),
        "ranking": _ranking(user, organization),
        "shares": {"rows": [row for row in rows if row.graded], "overall": overall},
    }


def _waiting_for_staff(organization, user, today):
    totals = checklists.review_queue_totals(user, organization)
    problems = supervision.home_problem_counts(organization, user, today=today)
    code = organization.code
    return {
        "review": totals,
        "closing": problems["submitted"],
        "extension": problems["extension"],
        "admonishments": supervision.admonishments_to_decide(user).count(),
        "links": {
            "review": _url("checklists:review", org=code),
            "closing": _url("supervision:board", org=code, status="submitted"),
            "extension": _url("supervision:board", org=code, status="extension"),
            "admonishments": _url("supervision:admonishments", pending=1),
        },
    }


def _pairings(user, organizations, year, today):
    """Pairings where the user's unit (or the user, as the paired leader) is the paired side:
    each village's state and whether this month's report is still due."""
    pairings = list(
        Pairing.objects.filter(Q(unit__in=organizations) | Q(leader__user=user), year=year)
        .select_related("village__parent", "unit", "leader")
        .order_by("village__path")
    )
    if not pairings:
        return []
    villages = [pairing.village_id for pairing in pairings]
    progress = checklists.progress_of_organizations(villages, year=year, today=today)
    problems = supervision.problem_facts(villages, today=today)
    month = today.replace(day=1)
    reported = set(PairingReport.objects.filter(pairing__in=pairings, month=month).values_list("pairing_id", flat=True))
    for pairing in pairings:
        row = progress.get(pairing.village_id, {"due": 0, "done": 0, "overdue": 0})
        pairing.rate = checklists.rate(row["done"], row["due"])
        pairing.overdue = row["overdue"]
        pairing.problems_open = problems.get(pairing.village_id, {}).get("open", 0)
        pairing.report_due = pairing.pk not in reported
    return pairings


def home_sections(user, *, today=None):
    today = today or timezone.localdate()
    year = today.year
    assignments = sorted(role_assignments_of(user), key=lambda a: (ORDER.index(a.role), a.organization.path))
    sections = []
    submitting = []
    for assignment in assignments:
        role, organization = assignment.role, assignment.organization
        if role in (Role.SECRETARY, Role.CLERK):
            submitting.append(organization)
            data = {"own": _own(organization, user, today)}
            if organization.level in (Level.CITY, Level.COUNTY, Level.TOWN):
                data["children"] = _children(organization, user, year, today)
                data["waiting_total"] = sum(child.waiting for child in data["children"])
                data["totals"] = _area_totals(organization, user, year, today)
                data["review_link"] = _url("checklists:review", org=organization.code)
            sections.append(Section("submitter", role, organization, data))
        elif role == Role.STAFF:
            data = _overview(organization, user, year, today)
            data["waiting"] = _waiting_for_staff(organization, user, today)
            sections.append(Section("overview", role, organization, data))
        elif role == Role.VIEWER:
            sections.append(Section("overview", role, organization, _overview(organization, user, year, today)))
        elif role == Role.SUPERVISOR:
            data = supervision.supervisor_month(user, today=today)
            data["problems"] = supervision.home_problem_counts(organization, user, today=today)
            data["next_problems"] = supervision.problems_next(organization, user, today=today)
            code = organization.code
            data["links"] = {
                "overdue": _url("supervision:board", org=code, status="overdue"),
                "soon": _url("supervision:board", org=code, status="soon"),
                "closing": _url("supervision:board", org=code, status="submitted"),
                "extension": _url("supervision:board", org=code, status="extension"),
            }
            sections.append(Section("supervisor", role, organization, data))
        elif role == Role.JUDGE and not any(section.kind == "judge" for section in sections):
            sheets = scoring.sheets_of_judge(user)
            data = {"total": sheets.count(), "open": sheets.filter(status=SheetStatus.OPEN).count()}
            sections.append(Section("judge", role, organization, data))
    pairings = _pairings(user, submitting, year, today)
    if pairings:
        sections.append(Section("pairings", "", None, {"pairings": pairings}))
    return sections


@login_required
def home(request):
    context = {
        "today": timezone.localdate(),
        "sections": home_sections(request.user),
        "unread": unread_count(request.user),
    }
    return render(request, "home/home.html", context)
