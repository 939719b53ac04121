from datetime import timedelta

from django.conf import settings
from django.db.models import BooleanField, Case, Count, Exists, F, IntegerField, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from config.links import link
from organizations.models import Organization
from organizations.permissions import Action, granted_on, organizations_where, views_whole_subtree
from organizations.selectors import history_rows, history_timeline, loaded_with
from organizations.subtree import children_rolled_up, keyed_to_any, within, within_either

from .models import (
    AREA_KEYS,
    OPEN_STATUSES,
    TRANSITIONS,
    Admonishment,
    ClosingRequest,
    Decision,
    Extension,
    FollowUp,
    Notice,
    Problem,
    RectificationPlan,
    RectificationRecord,
    Status,
    SupervisionVisit,
    UnannouncedSample,
)


def problems_visible(user):
    """Problems of organizations the user sees, or for which a unit the user sees is responsible."""
    visible = organizations_where(user, Action.VIEW).values("pk")
    return Problem.objects.filter(keyed_to_any(Problem, visible, *AREA_KEYS))


def problems_visible_below(user, organization):
    """problems_visible, for a query that keeps to the subtree of `organization` itself: when
    the user sees the whole subtree (views_whole_subtree), every problem, so that the query's
    own subtree condition is the only one (each condition on two keys is a UNION to plan)."""
    return Problem.objects.all() if views_whole_subtree(user, organization) else problems_visible(user)


def board(organization, user, *, today=None):
    """The board: open, overdue and closed-this-month problems for each organization below,
    over its whole subtree (county → towns → villages): one statement with the child list and
    the user's scope (organizations.subtree.children_rolled_up), the grouped roll-up on the
    constant prefix of the organization's path. Every visible child is listed, with zeros."""
    today = today or timezone.localdate()
    still_open = Q(status__in=OPEN_STATUSES)
    return children_rolled_up(
        organization,
        user,
        Problem.objects.all(),
        through="organization__",
        open=Count("pk", filter=still_open),
        overdue=Count("pk", filter=still_open & Q(deadline__lt=today)),
        closed=Count("pk", filter=Q(status=Status.CLOSED, closed_at__date__gte=today.replace(day=1))),
    )


def problems_of_area(organization, user, *, status=None, source=None, severity=None, unit=False, today=None):
    """The problems of an area: those concerning an organization of its subtree or for which
    a unit of it is responsible (a county department's own problems are on its board), or with
    `unit` only those for which the organization itself is the responsible unit (what its
    secretary signs for and rectifies); with the board's filters: "soon" = open and due within
    REMINDER_DAYS, "extension" = waiting for a decision on an extension."""
    today = today or timezone.localdate()
    if unit:
        problems = problems_visible_below(user, organization).filter(responsible_unit=organization)
    else:
        problems = problems_visible_below(user, organization).filter(within_either(Problem, organization, *AREA_KEYS))
    if status == "open":
        problems = problems.filter(status__in=OPEN_STATUSES)
    elif status == "overdue":
        problems = problems.filter(status__in=OPEN_STATUSES, deadline__lt=today)
    elif status == "soon":
        problems = problems.filter(status__in=OPEN_STATUSES, deadline__gte=today, deadline__lte=due_soon_limit(today))
    elif status == "extension":
        problems = problems.filter(Exists(Extension.objects.filter(problem=OuterRef("pk"), decision=Decision.PENDING)))
    elif status:
        problems = problems.filter(status=status)
    if source:
        problems = problems.filter(source=source)
    if severity:
        problems = problems.filter(severity=severity)
    return problems


def problem_states(organization, user, *, today=None):
    """[(label, count, tone)] of the problems of the organization's subtree by state, overdue
    ones apart (red), from one grouped query; every state is listed, with zero if need be."""
    today = today or timezone.localdate()
    counts = {
        (row["status"], row["late"]): row["n"]
        for row in problems_visible_below(user, organization)
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


def problems_filtered(user, data=None, *, root):
    """The problems of an area that the user sees, filtered by supervision.filters.ProblemFilter
    on `data` (a query string), open ones first by deadline. The area is the organization typed
    in the filter, else `root()` (`filterset.area`): the problems concerning its subtree and those
    a unit of it is responsible for (a county department's own problems are on its board).
    Returns the FilterSet: its `qs` is the whole list (the page paginates it)."""
    from .filters import ProblemFilter

    filterset = ProblemFilter(data, Problem.objects.none(), scope=organizations_where(user, Action.VIEW))
    filterset.form.is_valid()
    typed = filterset.form.cleaned_data.get("org")
    filterset.area = typed or root()
    problems = problems_visible_below(user, filterset.area)
    if typed is None:  # a typed organization's area is the filter's own (ProblemAreaFilter)
        problems = problems.filter(within_either(Problem, filterset.area, *AREA_KEYS))
    still_open = Case(When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField())
    # Only what a row of the board shows (with_countdown, supervision/board.html and board_print.html):
    # the 50 rows with every column of five tables took twice the time to fetch and build.
    filterset.queryset = (
        problems.select_related("organization__parent__parent")
        .only("status", "deadline", "description", *Organization.town_name_fields("organization__"))
        .order_by(still_open, "deadline", "pk")
    )
    return filterset


def with_countdown(problems, *, today=None):
    """Days left and the traffic-light colour of each problem of a page, and what its row on the
    board or a home says (link, state, countdown), worked out here once a row: the board lists 50, and
    the same by template tags (url, blocktranslate, get_status_display) was a third of its
    rendering."""
    today = today or timezone.localdate()
    states = {status: str(label) for status, label in Status.choices}
    problems = list(problems)
    for problem in problems:
        problem.days_left = (problem.deadline - today).days
        problem.colour = (
            "red" if problem.days_left < 0 else "yellow" if problem.days_left <= settings.REMINDER_DAYS else "green"
        )
        problem.href = link("supervision:problem", problem.pk)
        problem.state = states[problem.status]
        problem.countdown = ""
        if problem.is_open:
            problem.countdown = (
                _("%(days)s days overdue") % {"days": -problem.days_left}
                if problem.days_left < 0
                else _("%(days)s days left") % {"days": problem.days_left}
            )
    return problems


def problem_timeline(problem, *, limit=50):
    return history_timeline(
        [
            history_rows(Problem).filter(id=problem.pk),
            history_rows(RectificationPlan).filter(problem_id=problem.pk),
            history_rows(RectificationRecord).filter(problem_id=problem.pk),
            history_rows(ClosingRequest).filter(problem_id=problem.pk),
            history_rows(Extension).filter(problem_id=problem.pk),
        ],
        limit=limit,
        known=loaded_with(problem, "organization", "responsible_unit"),
    )


def admonishments_visible(user):
    return Admonishment.objects.filter(organization__in=organizations_where(user, Action.VIEW)).select_related(
        "organization__parent__parent", "problem", "person", "extension"
    )


def admonishment_decidable(user):
    """An expression, true where the user decides the admonishment (as admonishment_may_decide,
    for a whole list in the same query): staff above the organization and the responsible unit for
    a missed extension, above the organization for one a review recommended."""
    deciding = organizations_where(user, Action.DECIDE_ADMONISHMENT).values("pk")
    return Case(
        When(problem__isnull=True, organization__in=deciding, then=True),
        When(problem__organization__in=deciding, problem__responsible_unit__in=deciding, then=True),
        default=False,
        output_field=BooleanField(),
    )


def admonishment_may_decide(user, admonishment):
    """Staff above decide: above the organization and the responsible unit for a missed
    extension, above the organization for one recommended by a review."""
    units = [admonishment.organization_id]
    if admonishment.problem_id:
        units = [admonishment.problem.organization_id, admonishment.problem.responsible_unit_id]
    granted = organizations_where(user, Action.DECIDE_ADMONISHMENT).filter(pk__in=units).count()
    return granted == len(set(units))


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
        "entries__organization__parent__parent"
    )


def due_soon_limit(today=None):
    return (today or timezone.localdate()) + timedelta(days=settings.REMINDER_DAYS)


def follow_up_roots(user):
    """Where a supervisor or staff member may draw samples and read them: their own
    organizations and everything below (a county supervisor samples the whole county)."""
    return organizations_where(user, Action.DRAW_SAMPLE)


def samples_visible(user):
    # Which villages get an unannounced visit is for the supervisors, not for those visited.
    return UnannouncedSample.objects.filter(root__in=follow_up_roots(user))


def sample_chosen(sample):
    return Organization.objects.filter(code__in=sample.chosen).select_related("parent__parent").order_by("path")


def follow_ups_visible(user):
    return FollowUp.objects.filter(organization__in=organizations_where(user, Action.VIEW)).select_related(
        "organization__parent__parent", "recorded_by"
    )


def visits_visible(user):
    return SupervisionVisit.objects.filter(organization__in=organizations_where(user, Action.VIEW)).select_related(
        "organization__parent__parent", "recorded_by"
    )


def visit_problems(visit):
    return Problem.objects.filter(visit=visit).select_related("organization")


# problem page action → (the permission it needs, on the responsible unit or on both the
# organization and the unit, what the problem's state must allow)
PAGE_ACTIONS = {
    "claim": (Action.CLAIM_PROBLEM, "unit", "claim"),
    "plan": (Action.SUBMIT_RECORD, "unit", "plan"),
    "record": (Action.SUBMIT_RECORD, "unit", "record"),
    "request_closing": (Action.SUBMIT_RECORD, "unit", "request_closing"),
    "extend": (Action.SUBMIT_RECORD, "unit", "extend"),
    "close": (Action.CLOSE_PROBLEM, "both", "close"),
    "fail": (Action.CLOSE_PROBLEM, "both", "fail_check"),
    "approve_extension": (Action.DECIDE_EXTENSION, "both", "decide_extension"),
    "reject_extension": (Action.DECIDE_EXTENSION, "both", "decide_extension"),
    "cancel": (Action.LIST_PROBLEM, "both", "cancel"),
    "carry_over": (Action.LIST_PROBLEM, "both", "carry_over"),
}


def _state_allows(problem, step, pending_extension):
    if step in TRANSITIONS:
        return problem.status in TRANSITIONS[step][0]
    if step == "record":
        return problem.status == Status.RECTIFYING  # the 整改台账 is kept while rectifying
    if step == "extend":
        return problem.is_open and not pending_extension
    return problem.is_open and pending_extension  # decide_extension


def pending_extension(problem):
    return problem.extensions.filter(decision=Decision.PENDING).first()


def pending_closing_request_id(problem):
    return problem.closing_requests.filter(passed__isnull=True).values_list("pk", flat=True).first()


def problem_page(problem):
    """What the problem page shows besides the problem: plan, ledger, requests, extensions, and
    the pending request and extension found among them (at most one of each is pending)."""
    try:
        plan = problem.plan  # loaded with the problem by the page (select_related)
    except RectificationPlan.DoesNotExist:
        plan = None
    closing_requests = list(problem.closing_requests.select_related("submitted_by", "checked_by"))
    extensions = list(problem.extensions.select_related("requested_by", "decided_by"))
    return {
        "plan": plan,
        "records": problem.records.prefetch_related("attachments"),
        "closing_requests": closing_requests,
        "pending_closing_request_id": next((r.pk for r in closing_requests if r.passed is None), None),
        "extensions": extensions,
        "pending_extension": next((e for e in extensions if e.decision == Decision.PENDING), None),
        "admonishments": problem.admonishments.select_related("person"),
    }


def _granted(user, problem):
    """{permission: the ids among the problem's organization and unit it is granted on}."""
    permissions = {permission for permission, _on, _step in PAGE_ACTIONS.values()}
    return granted_on(user, permissions, [problem.organization, problem.responsible_unit])


def problem_permitted(user, problem):
    """The page actions the permissions grant the user on the problem, whatever its state: a
    POST outside these is a 403; one inside them in the wrong state gets the service's reason.
    What staff above decide (close, extend, cancel) needs a role above both the organization
    and the responsible unit, so that a unit never checks its own rectification."""
    where = _granted(user, problem)
    permitted = set()
    for action, (permission, on, _step) in PAGE_ACTIONS.items():
        needed = (
            {problem.responsible_unit_id} if on == "unit" else {problem.organization_id, problem.responsible_unit_id}
        )
        if needed <= where[permission]:
            permitted.add(action)
    return permitted


def problem_actions(user, problem, permitted=None, *, pending=None):
    """The actions the problem page offers: those permitted that the transition table (and
    whether an extension is pending, asked here unless the page has read it) allow from the
    problem's state. The template only asks this set."""
    permitted = problem_permitted(user, problem) if permitted is None else permitted
    if pending is None:
        pending = problem.extensions.filter(decision=Decision.PENDING).exists()
    return {action for action in permitted if _state_allows(problem, PAGE_ACTIONS[action][2], pending)}


def sample_roots(user):
    """Where a user reads the samples drawn: supervisors and staff (follow_up_roots) and the
    leaders above, never those visited."""
    from organizations.models import Role, RoleAssignment

    paths = RoleAssignment.objects.filter(user=user, role__in=[Role.STAFF, Role.SUPERVISOR, Role.VIEWER]).values_list(
        "organization__path", flat=True
    )
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(path__startswith=path)
    if user.is_superuser:
        condition = Q()
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


# --- what a home page counts (each count opens the board with the same filter) -------------


def home_problem_counts(organization, user, *, unit=False, today=None):
    """Open problems of an area (or of the unit itself) by what has to happen next, overdue
    and due soon, and extension requests waiting: one statement (as problems_of_area)."""
    today = today or timezone.localdate()
    problems = problems_of_area(organization, user, unit=unit, today=today)
    still_open = Q(status__in=OPEN_STATUSES)
    return problems.aggregate(
        listed=Count("pk", filter=Q(status=Status.LISTED)),
        claimed=Count("pk", filter=Q(status=Status.CLAIMED)),
        rectifying=Count("pk", filter=Q(status=Status.RECTIFYING)),
        submitted=Count("pk", filter=Q(status=Status.SUBMITTED)),
        overdue=Count("pk", filter=still_open & Q(deadline__lt=today)),
        soon=Count("pk", filter=still_open & Q(deadline__gte=today, deadline__lte=due_soon_limit(today))),
        extension=Count(
            "pk", filter=Q(Exists(Extension.objects.filter(problem=OuterRef("pk"), decision=Decision.PENDING)))
        ),
    )


def problems_next(organization, user, *, unit=False, today=None, limit=5):
    """The open problems of an area (or of the unit itself) with the nearest deadlines, with
    their countdowns."""
    today = today or timezone.localdate()
    return with_countdown(
        problems_of_area(organization, user, status="open", unit=unit, today=today)
        .select_related("organization__parent__parent")
        .order_by("deadline", "pk")[:limit],
        today=today,
    )


def admonishments_to_decide(user):
    """Admonishments recommended and not yet decided that the user decides."""
    return (
        Admonishment.objects.filter(
            organization__in=organizations_where(user, Action.VIEW), outcome=Admonishment.Outcome.RECOMMENDED
        )
        .annotate(may_decide=admonishment_decidable(user))
        .filter(may_decide=True)
    )


def supervisor_month(user, *, today=None):
    """Follow-ups and supervision visits recorded this month in the user's area, and the
    latest sample drawn."""
    from .models import FollowUp, SupervisionVisit, UnannouncedSample

    today = today or timezone.localdate()
    visible = organizations_where(user, Action.VIEW)
    first = today.replace(day=1)
    return {
        "follow_ups": FollowUp.objects.filter(organization__in=visible, date__gte=first).count(),
        "visits": SupervisionVisit.objects.filter(organization__in=visible, date__gte=first).count(),
        "sample": UnannouncedSample.objects.filter(root__in=follow_up_roots(user)).order_by("-drawn_at").first(),
    }
