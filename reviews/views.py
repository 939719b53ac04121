from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from organizations.forms import form_attempt
from organizations.models import Organization
from organizations.permissions import Action, acts_anywhere, organizations_where, top_organization
from organizations.selectors import organization_get_visible
from organizations.timelines import log_response, wants_log

from . import selectors, services
from .forms import (
    CodesForm,
    CommentForm,
    ConsequenceForm,
    GroupForm,
    PaperForm,
    PrecheckForm,
    ReporteeForm,
    ReporteesForm,
    ReportForm,
    SessionForm,
    VenueForm,
)
from .models import (
    CodeBatch,
    ConsequenceKind,
    ConsequenceStatus,
    RaterGroup,
    Reportee,
    ReviewSession,
    State,
    Venue,
)


def _number(value):
    """A posted id, or 0 (which matches nothing) when it is not a number."""
    return int(value) if value and str(value).isdigit() else 0


def _year(request):
    value = request.GET.get("year", "")
    return int(value) if value.isdigit() and 2000 <= int(value) <= 2100 else timezone.localdate().year


def _session_for(user, pk, *, manage=False):
    """The review if the user may read it (404 otherwise); with manage, also set it up (403)."""
    session = get_object_or_404(ReviewSession.objects.select_related("organizer"), pk=pk)
    if not selectors.may_read_results(user, session):
        raise Http404
    if manage and not selectors.may_manage(user, session):
        raise PermissionDenied
    return session


@login_required
def home(request):
    year = _year(request)
    context = {
        "year": year,
        "sessions": selectors.session_list(request.user, year=year),
        "may_create": acts_anywhere(request.user, Action.SET_UP_REVIEW),
        "mine": selectors.my_reportees(request.user).exists(),
    }
    return render(request, "reviews/home.html", context)


@login_required
def session_create(request):
    scope = organizations_where(request.user, Action.SET_UP_REVIEW)
    if not scope.exists():
        raise PermissionDenied
    today = timezone.localdate()
    form = SessionForm(
        request.POST or None,
        scope=scope,
        initial={
            "year": today.year,
            "starts_on": today,
            "ends_on": today,
            "veto": "1/2",
            "quorum": "2/3",
            "score_max": 100,
            "organizer": request.GET.get("org", ""),
        },
    )
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        session = form_attempt(form, lambda: services.session_create(actor=request.user, **fields))
        if session:
            messages.success(request, _("The review has been created: add its venues, rater groups and reportees."))
            return redirect("reviews:session", pk=session.pk)
    return render(request, "reviews/session_form.html", {"form": form})


@login_required
def session_edit(request, pk):
    session = _session_for(request.user, pk, manage=True)
    scope = organizations_where(request.user, Action.SET_UP_REVIEW)
    form = SessionForm(request.POST or None, scope=scope, initial=SessionForm.initial_from(session))
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        if form_attempt(form, lambda: services.session_update(actor=request.user, session=session, **fields)):
            messages.success(request, _("The rules have been saved."))
            return redirect("reviews:session", pk=session.pk)
    return render(request, "reviews/session_form.html", {"form": form, "session": session})


@login_required
def session_detail(request, pk):
    session = _session_for(request.user, pk)
    if wants_log(request):
        return log_response(request, session, lambda: _timeline(session))
    may_manage = selectors.may_manage(request.user, session)
    action = request.POST.get("action") if request.method == "POST" else None
    if action and not may_manage:
        raise PermissionDenied
    scope = organizations_where(request.user, Action.SET_UP_REVIEW)
    venue_form = VenueForm(
        request.POST if action == "venue" else None,
        scope=scope,
        initial={"held_on": session.starts_on, "organization": session.organizer.code},
    )
    reportees_form = ReporteesForm(
        request.POST if action == "reportees" else None, scope=scope, venues=session.venues.all()
    )
    if (
        action == "venue"
        and venue_form.is_valid()
        and form_attempt(
            venue_form, lambda: services.venue_add(actor=request.user, session=session, **venue_form.cleaned_data)
        )
    ):
        messages.success(request, _("The venue has been added."))
        return redirect("reviews:session", pk=session.pk)
    if action == "reportees" and reportees_form.is_valid():
        data = reportees_form.cleaned_data
        root = data["organization"]
        organizations = (
            Organization.objects.filter(parent=root) if data["below"] else Organization.objects.filter(pk=root.pk)
        )
        added = form_attempt(
            reportees_form,
            lambda: services.reportees_add(
                actor=request.user,
                session=session,
                organizations=organizations.filter(pk__in=scope),
                titles=data["titles"],
                venues=data["venues"],
                own_venue=data["own_venue"],
            ),
        )
        if added is not None:
            if added:
                messages.success(request, _("%(count)s reportees added.") % {"count": len(added)})
            else:
                messages.error(request, _("Nobody new holds those posts there today."))
            return redirect("reviews:session", pk=session.pk)
    context = {
        "session": session,
        "may_manage": may_manage,
        "may_results": selectors.may_read_results(request.user, session),
        "venues": selectors.venues_of(session),
        "reportees": selectors.reportees_of(session),
        "venue_form": venue_form,
        "reportees_form": reportees_form,
        "pending_checks": session.reportees.filter(check_verdict="pending").count(),
        "share": selectors.session_share(session) if session.results_at else None,
        "states": State.choices,
        "grade_points": list(zip(session.grades, session.points, strict=True)),
    }
    return render(request, "reviews/session_detail.html", context)


def _timeline(session):
    from organizations.selectors import history_rows, history_timeline

    return history_timeline(
        [
            history_rows(ReviewSession).filter(id=session.pk),
            history_rows(Venue).filter(session_id=session.pk),
            history_rows(Reportee).filter(session_id=session.pk),
        ],
        limit=30,
    )


@login_required
@require_POST
def session_advance(request, pk):
    session = _session_for(request.user, pk, manage=True)
    to = request.POST.get("to", "")
    if to not in services.ADVANCES:
        raise Http404
    try:
        services.session_advance(actor=request.user, session=session, to=to)
    except services.ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The review is now %(state)s.") % {"state": State(to).label})
    return redirect("reviews:session", pk=session.pk)


# --- venues and groups ----------------------------------------------------------------------


def _venue_for(user, pk, *, manage=False):
    venue = get_object_or_404(Venue.objects.select_related("session__organizer", "organization"), pk=pk)
    _session_for(user, venue.session_id, manage=manage)
    return venue


@login_required
def venue_detail(request, pk):
    venue = _venue_for(request.user, pk)
    session = venue.session
    may_manage = selectors.may_manage(request.user, session)
    action = request.POST.get("action") if request.method == "POST" else None
    if action and not may_manage:
        raise PermissionDenied
    group_form = GroupForm(request.POST if action == "group" else None)
    if (
        action == "group"
        and group_form.is_valid()
        and form_attempt(
            group_form, lambda: services.group_add(actor=request.user, venue=venue, **group_form.cleaned_data)
        )
    ):
        messages.success(request, _("The rater group has been added."))
        return redirect("reviews:venue", pk=venue.pk)
    if action == "remove_group":
        group = get_object_or_404(RaterGroup, pk=_number(request.POST.get("group")), venue=venue)
        try:
            services.group_remove(actor=request.user, group=group)
        except services.ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("reviews:venue", pk=venue.pk)
    if action == "void":
        batch = get_object_or_404(CodeBatch, pk=_number(request.POST.get("batch")), group__venue=venue)
        services.batch_void(actor=request.user, batch=batch)
        # How many were unused is not said: it would tell whether a known slip was used.
        messages.success(request, _("The unused codes of that printing no longer work."))
        return redirect("reviews:venue", pk=venue.pk)
    context = {
        "venue": venue,
        "session": session,
        "may_manage": may_manage,
        "groups": selectors.live_tally(venue),
        "reportees": venue.reportees.select_related("person", "organization__parent__parent").order_by("order", "pk"),
        "group_form": group_form,
        "codes_form": CodesForm(),
        "batches": selectors.batches_of(venue),
        "suggestions": RaterGroup.SUGGESTED,
    }
    return render(request, "reviews/venue_detail.html", context)


@login_required
@require_POST
def codes_print(request, pk):
    """Generate codes and show them once, as cut-out slips with QR codes: the response of this
    POST is the only place they exist in plain text."""
    group = get_object_or_404(RaterGroup.objects.select_related("venue__session__organizer"), pk=pk)
    _session_for(request.user, group.venue.session_id, manage=True)
    form = CodesForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("reviews:venue", pk=group.venue_id)
    try:
        batch, codes = services.codes_generate(actor=request.user, group=group, count=form.cleaned_data["count"])
    except services.ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("reviews:venue", pk=group.venue_id)
    from .printing import slips

    vote_url = request.build_absolute_uri(reverse("vote"))
    response = render(
        request,
        "reviews/slips.html",
        {"group": group, "batch": batch, "slips": slips(codes, vote_url), "vote_url": vote_url},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
def form_print(request, pk):
    """测评表: 序号, 姓名, 职务, a box per grade, 弃权, 意见 — one sheet per rater group."""
    venue = _venue_for(request.user, pk, manage=True)
    groups = list(venue.groups.order_by("position", "pk"))
    group_id = request.GET.get("group", "")
    if group_id.isdigit():
        groups = [group for group in groups if group.pk == int(group_id)] or groups
    context = {
        "venue": venue,
        "session": venue.session,
        "groups": groups,
        "reportees": venue.reportees.select_related("person", "organization__parent__parent").order_by("order", "pk"),
    }
    return render(request, "reviews/form_print.html", context)


@login_required
def tally_sheet_print(request, pk):
    """计票单 / 统计表: 应到, 实到, 发出, 收回, 有效, 无效 per group, then the counts per reportee."""
    venue = _venue_for(request.user, pk, manage=True)
    context = {
        "venue": venue,
        "session": venue.session,
        "groups": venue.groups.order_by("position", "pk"),
        "reportees": venue.reportees.select_related("person").order_by("order", "pk"),
    }
    return render(request, "reviews/tally_print.html", context)


@login_required
def paper_entry(request, pk, number):
    if number not in (1, 2):
        raise Http404
    group = get_object_or_404(RaterGroup.objects.select_related("venue__session__organizer"), pk=pk)
    _session_for(request.user, group.venue.session_id, manage=True)
    session = group.venue.session
    reportees = list(group.venue.reportees.select_related("person").order_by("order", "pk"))
    entry = group.paper_entries.filter(number=number).select_related("entered_by").first()
    other = group.paper_entries.exclude(number=number).select_related("entered_by").first()
    # 实到 is typed by the teller, never prefilled with the expected number.
    initial = PaperForm.initial_from(entry, reportees) if entry else {}
    form = PaperForm(request.POST or None, session=session, reportees=reportees, initial=initial)
    differences = []
    if request.method == "POST" and form.is_valid():
        result = form_attempt(
            form,
            lambda: services.paper_entry_save(
                actor=request.user,
                group=group,
                number=number,
                teller=form.cleaned_data["teller"],
                counts=form.counts(),
                **form.header(),
            ),
        )
        if result:
            _entry, tally, differences = result
            if tally:
                messages.success(request, _("Both counts agree: the paper ballots of this group are accepted."))
                return redirect("reviews:venue", pk=group.venue_id)
            if not differences:
                messages.success(request, _("Saved. The second teller now enters the same ballots."))
                return redirect("reviews:venue", pk=group.venue_id)
    elif entry and other and not hasattr(group, "tally"):
        differences = services.paper_differences(session, group, entry, other)
    context = {
        "group": group,
        "session": session,
        "number": number,
        "form": form,
        "entry": entry,
        "other": other,
        "differences": differences,
        "accepted": hasattr(group, "tally"),
    }
    return render(request, "reviews/paper_entry.html", context)


@login_required
def live(request, pk):
    """The big screen of a venue: ballots in per group against the expected number, refreshed by
    itself; no result is shown while rating is open."""
    venue = _venue_for(request.user, pk)
    context = {"venue": venue, "session": venue.session, "groups": selectors.live_tally(venue)}
    template = "reviews/_live_counts.html" if request.htmx else "reviews/live.html"
    return render(request, template, context)


# --- reportees --------------------------------------------------------------------------------


@login_required
def reportee_detail(request, pk):
    reportee = get_object_or_404(
        Reportee.objects.select_related("session__organizer", "person", "organization__parent__parent", "report"), pk=pk
    )
    session = reportee.session
    user = request.user
    own = reportee.person.user_id == user.pk
    if not (selectors.may_read_results(user, session) or own):
        raise Http404
    may_manage = selectors.may_manage(user, session)
    action = request.POST.get("action") if request.method == "POST" else None
    if action and not (may_manage or (own and action == "report")):
        raise PermissionDenied
    forms = {
        "report": ReportForm(
            request.POST if action == "report" else None, request.FILES if action == "report" else None
        ),
        "reportee": ReporteeForm(
            request.POST if action == "reportee" else None,
            venues=session.venues.all(),
            initial={"order": reportee.order, "on_stage": reportee.on_stage, "venues": list(reportee.venues.all())},
        ),
        "precheck": PrecheckForm(
            request.POST if action == "precheck" else None,
            initial={
                "verdict": reportee.check_verdict if reportee.check_verdict != "pending" else None,
                "notes": reportee.check_notes,
            },
        ),
        "comment": CommentForm(
            request.POST if action == "comment" else None,
            initial={"comment": reportee.comment, "commented_by": reportee.commented_by},
        ),
    }
    writes = {
        "report": lambda data: services.report_upload(actor=user, reportee=reportee, upload=data["report"]),
        "reportee": lambda data: services.reportee_update(actor=user, reportee=reportee, **data),
        "precheck": lambda data: services.precheck_record(actor=user, reportee=reportee, **data),
        "comment": lambda data: services.comment_record(
            actor=user,
            reportee=reportee,
            comment=data["comment"],
            commented_by=data["commented_by"],
            problems=forms["comment"].problems(),
        ),
    }
    if action == "remove":
        try:
            services.reportee_remove(actor=user, reportee=reportee)
        except services.ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("reviews:reportee", pk=reportee.pk)
        messages.success(request, _("The reportee has been removed."))
        return redirect("reviews:session", pk=session.pk)
    if action in writes:
        form = forms[action]
        if form.is_valid() and form_attempt(form, lambda: writes[action](form.cleaned_data)) is not None:
            messages.success(request, _("Saved."))
            return redirect("reviews:reportee", pk=reportee.pk)
    (with_facts,) = selectors.precheck_facts([reportee], year=session.year)
    context = {
        "reportee": with_facts,
        "session": session,
        "may_manage": may_manage,
        "own": own,
        "problems": reportee.problems.all(),
        **{f"{name}_form": form for name, form in forms.items()},
    }
    return render(request, "reviews/reportee_detail.html", context)


@login_required
def precheck(request, pk):
    """The pre-report check of every reportee side by side with the platform's records."""
    session = _session_for(request.user, pk)
    reportees = selectors.precheck_facts(selectors.reportees_of(session), year=session.year)
    return render(
        request,
        "reviews/precheck.html",
        {"session": session, "reportees": reportees, "may_manage": selectors.may_manage(request.user, session)},
    )


# --- results and consequences -------------------------------------------------------------------------


def _results_session(request, pk):
    session = _session_for(request.user, pk)
    if session.state not in {State.CLOSED, State.PUBLISHED}:
        messages.error(request, _("Results are shown once the rating is closed."))
        return session, None
    return session, selectors.results_table(session)


@login_required
def results(request, pk):
    session, rows = _results_session(request, pk)
    if rows is None:
        return redirect("reviews:session", pk=session.pk)
    may_manage = selectors.may_manage(request.user, session)
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        try:
            services.results_recompute(actor=request.user, session=session)
        except services.ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("reviews:results", pk=session.pk)
    context = {
        "session": session,
        "rows": rows,
        "share": selectors.session_share(session),
        "may_manage": may_manage,
        "opinions": selectors.opinions(session),
    }
    return render(request, "reviews/results.html", context)


@login_required
def results_print(request, pk):
    """公示: the results announcement for printing."""
    session, rows = _results_session(request, pk)
    if rows is None:
        return redirect("reviews:session", pk=session.pk)
    return render(
        request,
        "reviews/results_print.html",
        {
            "session": session,
            "rows": rows,
            "share": selectors.session_share(session),
            "printed_on": timezone.localdate(),
        },
    )


@login_required
def consequences(request, pk):
    session = _session_for(request.user, pk)
    may_manage = selectors.may_manage(request.user, session)
    rows = list(selectors.consequences_of(session))
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        consequence = next((row for row in rows if str(row.pk) == request.POST.get("pk")), None)
        if consequence is None:
            raise Http404
        form = ConsequenceForm(request.POST, choices=_decisions(consequence))
        if form.is_valid() and form_attempt(
            form, lambda: services.consequence_decide(actor=request.user, consequence=consequence, **form.cleaned_data)
        ):
            messages.success(request, _("The decision has been recorded."))
            return redirect("reviews:consequences", pk=session.pk)
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    for row in rows:
        row.choices = _decisions(row)
    return render(request, "reviews/consequences.html", {"session": session, "rows": rows, "may_manage": may_manage})


def _decisions(consequence):
    if consequence.status == ConsequenceStatus.RECOMMENDED:
        return [(s, ConsequenceStatus(s).label) for s in (ConsequenceStatus.ADOPTED, ConsequenceStatus.NOT_ADOPTED)]
    if consequence.status == ConsequenceStatus.ADOPTED:
        return [(ConsequenceStatus.DONE, ConsequenceStatus.DONE.label)]
    return []


@login_required
def barred(request):
    """Lists of people barred from awards or subsidies in a year, for an organization's area."""
    code = request.GET.get("org")
    organization = organization_get_visible(request.user, code) if code else None
    scope = organizations_where(request.user, Action.READ_REVIEW_RESULTS)
    if organization is None:
        organization = top_organization(request.user, Action.READ_REVIEW_RESULTS)
    if organization is None or not scope.filter(pk=organization.pk).exists():
        raise PermissionDenied
    year = _year(request)
    lists = [
        (kind, ConsequenceKind(kind).label, selectors.barred(organization, request.user, year=year, kind=kind))
        for kind in (ConsequenceKind.NO_SUBSIDY, ConsequenceKind.NO_AWARDS)
    ]
    return render(request, "reviews/barred.html", {"organization": organization, "year": year, "lists": lists})


@login_required
def shares(request):
    """The share rated competent or better, per child organization (town, county)."""
    code = request.GET.get("org")
    organization = organization_get_visible(request.user, code) if code else None
    if organization is None:
        organization = top_organization(request.user, Action.READ_REVIEW_RESULTS)
    if organization is None:
        raise PermissionDenied
    year = _year(request)
    rows, overall = selectors.grade_shares_by_child(organization, request.user, year=year)
    from organizations.selectors import organization_ancestors

    return render(
        request,
        "reviews/shares.html",
        {
            "organization": organization,
            "year": year,
            "rows": rows,
            "overall": overall,
            "ancestors": organization_ancestors(organization, request.user),
        },
    )


@login_required
def mine(request):
    """A reportee sees his or her own results only, and only once they are published."""
    rows = list(selectors.my_reportees(request.user).order_by("-session__year", "-session__pk"))
    published = [row.pk for row in rows if row.session.state == State.PUBLISHED]
    tables = {
        reportee.pk: reportee
        for session_id in {row.session_id for row in rows if row.pk in published}
        for reportee in selectors.results_table(ReviewSession.objects.get(pk=session_id))
        if reportee.pk in published
    }
    for row in rows:
        row.table = tables.get(row.pk)
    return render(request, "reviews/mine.html", {"rows": rows})


# --- the ballot (no account, no log of who or when) -----------------------------------------------------


def vote(request):
    """The rater's page. Step 1: the code (typed, or filled in from the QR code's fragment by a
    small script); step 2: one form rating every reportee of the venue; then cast once. The
    user account, if any, is ignored: no ballot is ever cast through an account."""
    from .forms import BallotForm, CodeForm
    from .throttle import failure, wait_seconds

    step = request.POST.get("step") if request.method == "POST" else None
    if step is None:
        return _vote_render(request, "reviews/vote_code.html", {"form": CodeForm()})
    # Only trying a code waits: a rater who already passed that step never loses a filled-in form.
    wait = wait_seconds(request) if step != "cast" else 0
    if wait:
        return _vote_render(
            request,
            "reviews/vote_code.html",
            {"form": CodeForm(request.POST), "refusal": _("Too many wrong codes: wait %(s)s seconds.") % {"s": wait}},
            status=429,
        )
    code_form = CodeForm(request.POST)
    if not code_form.is_valid():
        return _vote_render(request, "reviews/vote_code.html", {"form": code_form}, status=400)
    code = code_form.cleaned_data["code"]
    try:
        group = services.ballot_code_lookup(code)
    except services.BallotRefused as refused:
        if refused.guess:  # a used code, or rating not open, is no guess
            failure(request)
        return _vote_render(request, "reviews/vote_code.html", {"form": code_form, "refusal": str(refused)}, status=400)
    session = group.venue.session
    reportees = group.venue.reportees.select_related("person", "organization__parent__parent").order_by("order", "pk")
    form = BallotForm(
        request.POST if step == "cast" else None, session=session, reportees=reportees, initial={"code": code}
    )
    context = {"form": form, "group": group, "venue": group.venue, "session": session}
    if step == "cast" and form.is_valid():
        try:
            services.ballot_cast(code=code, answers=form.answers())
        except services.BallotRefused as refused:
            return _vote_render(
                request, "reviews/vote_code.html", {"form": CodeForm(), "refusal": str(refused)}, status=409
            )
        except services.ValidationError as error:
            form.add_error(None, error)
        else:
            return _vote_render(request, "reviews/vote_done.html", {"venue": group.venue, "session": session})
    return _vote_render(
        request, "reviews/vote_form.html", context, status=200 if form.is_bound is False or form.is_valid() else 400
    )


def _vote_render(request, template, context, status=200):
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "no-store"
    # Not "no-referrer": a form posted from such a page sends "Origin: null", which CSRF refuses.
    response["Referrer-Policy"] = "same-origin"
    return response
