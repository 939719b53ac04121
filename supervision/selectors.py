from datetime import timedelta

from django.conf import settings
from django.db.models import BooleanField, Case, Count, F, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.models import Organization
from organizations.permissions import Action, organizations_where
from organizations.selectors import history_timeline
from organizations.subtree import children_with_rollup, rollup_by_child, within

from .models import (
    OPEN_STATUSES,
    Admonishment,
    ClosingRequest,
    Extension,
    Notice,
    Problem,
    RectificationPlan,
    RectificationRecord,
    Status,
)


def problems_visible(user):
    """Problems of organizations the user sees, or for which a unit the user sees is responsible."""
    visible = organizations_where(user, Action.VIEW)
    return Problem.objects.filter(Q(organization__in=visible) | Q(responsible_unit__in=visible))


def board(organization, user, *, today=None):
    """The board: open, overdue and closed-this-month problems for each organization below,
    over its whole subtree (county → towns → villages): one grouped query on the constant
    prefix of the organization's path. Every visible child is listed, with zeros if need be."""
    today = today or timezone.localdate()
    still_open = Q(status__in=OPEN_STATUSES)
    rollup = rollup_by_child(
        Problem.objects.all(),
        organization,
        through="organization__",
        open=Count("pk", filter=still_open),
        overdue=Count("pk", filter=still_open & Q(deadline__lt=today)),
        closed=Count("pk", filter=Q(status=Status.CLOSED, closed_at__date__gte=today.replace(day=1))),
    )
    children = Organization.objects.filter(
        parent=organization, pk__in=organizations_where(user, Action.VIEW)
    ).select_related("parent__parent")
    return children_with_rollup(children.order_by("code"), rollup, {"open": 0, "overdue": 0, "closed": 0})


def problem_states(organization, user, *, today=None):
    """[(label, count, tone)] of the problems of the organization's subtree by state, overdue
    ones apart (red), from one grouped query; every state is listed, with zero if need be."""
    today = today or timezone.localdate()
    counts = {
        (row["status"], row["late"]): row["n"]
        for row in problems_visible(user)
        .filter(within(organization, through="organization__"))
        .annotate(
            late=Case(
                When(status__in=OPEN_STATUSES, deadline__lt=today, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .values("status", "late")
        .annotate(n=Count("pk"))
        .order_by()
    }
    overdue = sum(n for (status, late), n in counts.items() if late)
    states = [
        (label, sum(n for (s, late), n in counts.items() if s == status and not late), "")
        for status, label in Status.choices
    ]
    return [(_("overdue"), overdue, "red"), *states]


def problems_filtered(user, data=None):
    """The problems the user sees, filtered by supervision.filters.ProblemFilter on `data` (a
    query string), open ones first by deadline unless sorted otherwise. Returns the FilterSet:
    its `qs` is the whole list (the page paginates it; nothing is cut off)."""
    from .filters import ProblemFilter

    still_open = Case(When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField())
    problems = (
        problems_visible(user)
        .select_related("organization__parent__parent", "responsible_unit")
        .order_by(still_open, "deadline", "pk")
    )
    return ProblemFilter(data, problems, scope=organizations_where(user, Action.VIEW))


def with_countdown(problems, *, today=None):
    """Days left and the traffic-light colour of each problem of a page."""
    today = today or timezone.localdate()
    problems = list(problems)
    for problem in problems:
        problem.days_left = (problem.deadline - today).days
        problem.colour = (
            "red" if problem.days_left < 0 else "yellow" if problem.days_left <= settings.REMINDER_DAYS else "green"
        )
    return problems


def problem_timeline(problem, *, limit=50):
    return history_timeline(
        [
            Problem.history.filter(id=problem.pk),
            RectificationPlan.history.filter(problem_id=problem.pk),
            RectificationRecord.history.filter(problem_id=problem.pk),
            ClosingRequest.history.filter(problem_id=problem.pk),
            Extension.history.filter(problem_id=problem.pk),
        ],
        limit=limit,
    )


def admonishments_visible(user):
    return Admonishment.objects.filter(organization__in=organizations_where(user, Action.VIEW)).select_related(
        "organization__parent__parent", "problem", "person", "extension"
    )


def admonishment_decidable(user):
    """An expression, true where the user decides the admonishment (as views._may_decide_admonishment,
    for a whole list in the same query): staff above the organization and the responsible unit for
    a missed extension, above the organization for one a review recommended."""
    deciding = organizations_where(user, Action.DECIDE_EXTENSION).values("pk")
    return Case(
        When(problem__isnull=True, organization__in=deciding, then=True),
        When(problem__organization__in=deciding, problem__responsible_unit__in=deciding, then=True),
        default=False,
        output_field=BooleanField(),
    )


def problems_matching(user, query):
    """Problems the user sees whose description or category holds the words, open ones first."""
    query = query.strip()
    if not query:
        return Problem.objects.none()
    still_open = Case(When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField())
    return (
        problems_visible(user)
        .filter(Q(description__contains=query) | Q(category__contains=query))
        .select_related("organization__parent__parent")
        .order_by(still_open, "deadline", "pk")
    )


def notices_matching(user, query):
    """通报 the user sees by title or document prefix."""
    query = query.strip()
    if not query:
        return Notice.objects.none()
    return (
        Notice.objects.filter(issuer__in=organizations_where(user, Action.VIEW))
        .filter(Q(title__contains=query) | Q(prefix__contains=query))
        .select_related("issuer")
        .order_by("-year", "-sequence")
    )


def notices_visible(user):
    return Notice.objects.filter(issuer__in=organizations_where(user, Action.VIEW)).prefetch_related(
        "entries__organization"
    )


def due_soon_limit(today=None):
    return (today or timezone.localdate()) + timedelta(days=settings.REMINDER_DAYS)


def follow_up_roots(user):
    """Where a supervisor or staff member may draw samples and read them: their own
    organizations and everything below (a county supervisor samples the whole county)."""
    from organizations.models import Role, RoleAssignment

    paths = RoleAssignment.objects.filter(user=user, role__in=[Role.STAFF, Role.SUPERVISOR]).values_list(
        "organization__path", flat=True
    )
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(path__startswith=path)
    return Organization.objects.filter(condition)


def problem_facts(organization_ids, *, today=None):
    """{organization id: {"open": n, "overdue": n}} over the problems concerning each one."""
    today = today or timezone.localdate()
    still_open = Q(status__in=OPEN_STATUSES)
    rows = (
        Problem.objects.filter(organization_id__in=organization_ids)
        .values("organization_id")
        .annotate(open=Count("pk", filter=still_open), overdue=Count("pk", filter=still_open & Q(deadline__lt=today)))
        .order_by()
    )
    return {row.pop("organization_id"): row for row in rows}


def admonishment_counts(person_ids):
    """{person id: admonishments recommended for the person}."""
    rows = Admonishment.objects.filter(person_id__in=person_ids).values("person_id").annotate(n=Count("pk")).order_by()
    return {row["person_id"]: row["n"] for row in rows}


def notice_points(organization_ids, *, year, on=None):
    """The points of the 通报 of a year naming each organization (or a person of it), issued by
    `on` if given, with the document number: [(organization id, points, reason, number)], for
    scoring's deductions."""
    from .models import NoticeEntry

    entries = NoticeEntry.objects.filter(organization_id__in=organization_ids, notice__year=year)
    if on is not None:
        entries = entries.filter(notice__issued_on__lte=on)
    rows = entries.select_related("notice").order_by("organization_id", "notice__sequence", "pk")
    return [(row.organization_id, row.points, row.reason, row.notice.number) for row in rows]


def overdue_problem_counts(organization_ids, *, year, on):
    """{organization id: problems of the year concerning it that were overdue by `on`: past
    their (extended) deadline and not closed by it}; cancelled ones (listed in error) do not count."""
    from datetime import datetime, time

    end_of = timezone.make_aware(datetime.combine(on, time.max))
    overdue = Q(deadline__lt=on) & (Q(closed_at__isnull=True) | Q(closed_at__date__gt=F("deadline")))
    rows = (
        Problem.objects.filter(organization_id__in=organization_ids, year=year, listed_at__lte=end_of)
        .exclude(status=Status.CANCELLED)
        .filter(overdue)
        .values("organization_id")
        .annotate(n=Count("pk"))
        .values_list("organization_id", "n")
    )
    return dict(rows)
