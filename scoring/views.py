from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, F, OuterRef, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from checklists.models import ChecklistTemplate
from organizations.forms import form_attempt
from organizations.listing import page_of
from organizations.models import Organization, Role, User
from organizations.permissions import Action, acts_anywhere, has_permission, organizations_where, top_organization
from spreadsheets.forms import UploadForm
from spreadsheets.services import import_job_create

from . import selectors, services
from .forms import (
    AcceptanceForm,
    AppealForm,
    AssignForm,
    CopyForm,
    DeductionForm,
    EvaluationForm,
    GrantForm,
    IndicatorForm,
    MembersForm,
    PanelForm,
    ProjectForm,
    ProjectReportForm,
    ProjectReviewForm,
    PublishForm,
    QuarterlyForm,
    ReasonForm,
    ResolveForm,
    SchemeForm,
    SheetForm,
    SpendingForm,
)
from .models import (
    COMPONENT_LABELS,
    COMPONENTS,
    Appeal,
    Deduction,
    Grant,
    Indicator,
    JudgeSheet,
    Panel,
    Project,
    ProjectStatus,
    QuarterlyScore,
    Scheme,
    SchemeKind,
    SchemeResult,
    SchemeState,
    SheetStatus,
)


def _year(request):
    value = request.GET.get("year", "")
    return int(value) if value.isdigit() and 2000 <= int(value) <= 2100 else timezone.localdate().year


def _scheme_for(user, pk, *, manage=False):
    scheme = get_object_or_404(Scheme.objects.select_related("owner", "checklist_template"), pk=pk)
    if not selectors.may_read(user, scheme):
        raise Http404
    if manage and not selectors.may_manage(user, scheme):
        raise PermissionDenied
    return scheme


def _posted_pk(request, name):
    """A primary key posted in a hidden field: anything but digits is a 404, never a 500."""
    value = request.POST.get(name, "")
    if not value.isdigit() or len(value) > 18:
        raise Http404
    return int(value)


def _errors(request, error):
    messages.error(request, " ".join(error.messages))


@login_required
def home(request):
    year = _year(request)
    context = {
        "year": year,
        "schemes": selectors.scheme_list(request.user, year=year).annotate(
            may_manage=selectors.scheme_manageable(request.user)
        ),
        "sheets": selectors.sheets_of_judge(request.user),
        "may_create": acts_anywhere(request.user, Action.SET_UP_ASSESSMENT),
    }
    return render(request, "scoring/home.html", context)


def _templates(user):
    return ChecklistTemplate.objects.filter(owner__in=organizations_where(user, Action.VIEW)).order_by("-year", "name")


@login_required
def scheme_create(request):
    scope = organizations_where(request.user, Action.SET_UP_ASSESSMENT)
    if not scope.exists():
        raise PermissionDenied
    year = timezone.localdate().year
    initial = {
        "year": year,
        "scoring_date": timezone.localdate(),
        "weight_checklist": 40,
        "weight_panel": 40,
        "weight_mass": 20,
        "weight_ordinary": 0,
        "trim_min_judges": 5,
        "overdue_problem_points": 0,
        "late_item_points": 0,
        "owner": request.GET.get("org", ""),
    }
    form = SchemeForm(request.POST or None, scope=scope, templates=_templates(request.user), initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        scheme = form_attempt(form, lambda: services.scheme_create(actor=request.user, **fields))
        if scheme:
            messages.success(request, _("The scheme has been created: add the organizations, indicators and panels."))
            return redirect("scoring:scheme", pk=scheme.pk)
    return render(request, "scoring/scheme_form.html", {"form": form})


@login_required
def scheme_edit(request, pk):
    scheme = _scheme_for(request.user, pk, manage=True)
    scope = organizations_where(request.user, Action.SET_UP_ASSESSMENT)
    form = SchemeForm(
        request.POST or None, scope=scope, templates=_templates(request.user), initial=SchemeForm.initial_from(scheme)
    )
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        if form_attempt(form, lambda: services.scheme_update(actor=request.user, scheme=scheme, **fields)):
            messages.success(request, _("The rules have been saved."))
            return redirect("scoring:scheme", pk=scheme.pk)
    return render(request, "scoring/scheme_form.html", {"form": form, "scheme": scheme})


@login_required
def scheme_detail(request, pk):
    scheme = _scheme_for(request.user, pk)
    user = request.user
    may_manage = selectors.may_manage(user, scheme)
    if not may_manage and not selectors.may_read_all(user, scheme):
        return redirect("scoring:board", pk=scheme.pk)
    action = request.POST.get("action") if request.method == "POST" else None
    if action and not may_manage:
        raise PermissionDenied
    scope = organizations_where(user, Action.SET_UP_ASSESSMENT)
    # Each form of the page has its own prefix: field ids (and the labels naming them) stay unique.
    forms = {
        "members": MembersForm(
            request.POST if action == "members" else None,
            scope=scope,
            initial={"root": scheme.owner.code},
            prefix="members",
        ),
        "indicator": IndicatorForm(request.POST if action == "indicator" else None, prefix="indicator"),
        "panel": PanelForm(request.POST if action == "panel" else None, prefix="panel"),
        "copy": CopyForm(
            request.POST if action == "copy" else None,
            initial={"year": scheme.year + 1, "name": scheme.name.replace(str(scheme.year), str(scheme.year + 1))},
            prefix="copy",
        ),
        "publish": PublishForm(
            request.POST if action == "publish" else None,
            initial={"publication_ends_on": scheme.publication_ends_on or timezone.localdate() + timedelta(days=7)},
            prefix="publish",
        ),
        "correct": ReasonForm(request.POST if action == "correct" else None, prefix="correct"),
    }

    def members(data):
        root = data["root"]
        found = Organization.objects.filter(kind__in=data["kinds"])
        found = found.filter(parent=root) if data["direct"] else found.subtree(root).exclude(pk=root.pk)
        return services.members_add(actor=user, scheme=scheme, organizations=found.filter(pk__in=scope))

    def publish(data):
        return services.scheme_advance(
            actor=user, scheme=scheme, to=SchemeState.PUBLISHED, publication_ends_on=data["publication_ends_on"]
        )

    writes = {
        "members": members,
        "indicator": lambda data: services.indicator_add(actor=user, scheme=scheme, **data),
        "panel": lambda data: services.panel_add(actor=user, scheme=scheme, **data),
        "copy": lambda data: services.scheme_copy(actor=user, scheme=scheme, **data),
        "publish": publish,
        "correct": lambda data: services.scheme_correct(actor=user, scheme=scheme, reason=data["reason"]),
    }
    if action in writes and forms[action].is_valid():
        result = form_attempt(forms[action], lambda: writes[action](forms[action].cleaned_data))
        if result is not None:
            if action in {"copy", "correct"}:
                messages.success(request, _("A new scheme has been made from this one."))
                return redirect("scoring:scheme", pk=result.pk)
            done = {
                "members": _("%(n)s organizations added.") % {"n": result} if action == "members" else "",
                "indicator": _("The indicator has been added."),
                "panel": _("The panel has been added: assign its judges and organizations."),
                "publish": _("The results are announced; the organizations' secretaries have been told."),
            }
            messages.success(request, done[action])
            return redirect("scoring:scheme", pk=scheme.pk)
    if action in {"remove_member", "remove_indicator"}:
        try:
            if action == "remove_member":
                organization = get_object_or_404(Organization, pk=_posted_pk(request, "organization"))
                services.member_remove(actor=user, scheme=scheme, organization=organization)
            else:
                indicator = get_object_or_404(Indicator, pk=_posted_pk(request, "indicator"), scheme=scheme)
                services.indicator_remove(actor=user, indicator=indicator)
        except ValidationError as error:
            _errors(request, error)
        return redirect("scoring:scheme", pk=scheme.pk)
    context = {
        "scheme": scheme,
        "may_manage": may_manage,
        "members": scheme.members.select_related("organization__parent", "project").order_by("organization__path"),
        "indicators": scheme.indicators.order_by("position", "code"),
        "panels": selectors.sheets_progress(scheme),
        "run": selectors.latest_run(scheme),
        "states": SchemeState.choices,
        "upload_form": UploadForm(),
        **{f"{name}_form": form for name, form in forms.items()},
    }
    return render(request, "scoring/scheme_detail.html", context)


@login_required
@require_POST
def scheme_advance(request, pk):
    scheme = _scheme_for(request.user, pk, manage=True)
    to = request.POST.get("to", "")
    if to not in SchemeState.values:
        raise Http404
    try:
        services.scheme_advance(actor=request.user, scheme=scheme, to=to)
    except ValidationError as error:
        _errors(request, error)
    else:
        messages.success(request, _("The scheme is now %(state)s.") % {"state": SchemeState(to).label})
    return redirect("scoring:scheme", pk=scheme.pk)


@login_required
@require_POST
def aggregate(request, pk):
    scheme = _scheme_for(request.user, pk, manage=True)
    try:
        services.aggregation_start(actor=request.user, scheme=scheme)
    except ValidationError as error:
        _errors(request, error)
    else:
        messages.success(request, _("The aggregation has started; its progress is shown below."))
        waiting = scheme.sheets.exclude(status=SheetStatus.SUBMITTED).count()
        if waiting:
            messages.warning(
                request,
                _("%(n)s sheets are not submitted yet: they are left out of this aggregation.") % {"n": waiting},
            )
    return redirect("scoring:scheme", pk=scheme.pk)


@login_required
def run_status(request, pk):
    scheme = _scheme_for(request.user, pk)
    run = selectors.latest_run(scheme)
    response = render(request, "scoring/_run.html", {"scheme": scheme, "run": run})
    if request.htmx and (run is None or run.status != "running"):
        # Finished: the whole page again, with what can be done now (the board, announcing).
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def upload(request, pk, sheet):
    """The 考核指标 or 评委评分 sheet of this scheme, through the spreadsheet machinery (check,
    preview, confirm): the upload names the scheme it is for."""
    scheme = _scheme_for(request.user, pk, manage=True)
    sheets = {"indicators": "考核指标", "scores": "评委评分"}
    if sheet not in sheets:
        raise Http404
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("scoring:scheme", pk=scheme.pk)
    try:
        job = import_job_create(
            actor=request.user,
            upload=form.cleaned_data["file"],
            target={"scheme": scheme.pk, "sheets": [sheets[sheet]]},
        )
    except ValidationError as error:
        _errors(request, error)
        return redirect("scoring:scheme", pk=scheme.pk)
    return redirect("spreadsheets:import_detail", pk=job.pk)


# --- panels and judges' sheets ------------------------------------------------------------------


def _judges_available(scheme):
    """Accounts holding the judge role at the organizer or above it, or below it."""
    owner = scheme.owner
    paths = [*owner.ancestor_paths(), owner.path]
    roles = User.objects.filter(role_assignments__role=Role.JUDGE, is_active=True)
    return (
        (
            roles.filter(role_assignments__organization__path__in=paths)
            | roles.filter(role_assignments__organization__path__startswith=owner.path)
        )
        .distinct()
        .order_by("full_name", "username")
    )


@login_required
def panel_detail(request, pk):
    panel = get_object_or_404(Panel.objects.select_related("scheme__owner"), pk=pk)
    scheme = _scheme_for(request.user, panel.scheme_id)
    if not selectors.may_read_all(request.user, scheme):
        raise Http404
    may_manage = selectors.may_manage(request.user, scheme)
    action = request.POST.get("action") if request.method == "POST" else None
    if action is not None and not may_manage:
        raise PermissionDenied
    members = Organization.objects.filter(scheme_memberships__scheme=scheme).select_related("parent").order_by("path")
    form = AssignForm(
        request.POST if action == "assign" else None,
        judges=_judges_available(scheme).exclude(pk__in=panel.judges.values("pk")),
        organizations=members.exclude(pk__in=panel.organizations.values("pk")),
    )
    reopen = ReasonForm(request.POST if action in {"reopen", "reopen_organization"} else None)
    refused = None
    if action == "assign" and form.is_valid():
        refused = form_attempt(
            form,
            lambda: services.panel_assign(
                actor=request.user,
                panel=panel,
                judges=list(form.cleaned_data["judges"]),
                organizations=list(form.cleaned_data["organizations"]),
            ),
        )
        if refused is not None:
            sheets = panel.sheets.count()
            messages.success(
                request,
                _("Assigned: the panel has %(judges)s judges, %(organizations)s organizations and %(sheets)s sheets.")
                % {"judges": panel.judges.count(), "organizations": panel.organizations.count(), "sheets": sheets},
            )
            if not refused:
                return redirect("scoring:panel", pk=panel.pk)
    if action == "reopen" and reopen.is_valid():
        sheet = get_object_or_404(JudgeSheet, pk=_posted_pk(request, "sheet"), panel=panel)
        if form_attempt(
            reopen, lambda: services.sheet_reopen(actor=request.user, sheet=sheet, reason=reopen.cleaned_data["reason"])
        ):
            messages.success(request, _("The sheet has been reopened; the judge was told."))
            return redirect("scoring:panel", pk=panel.pk)
    if action == "reopen_organization" and reopen.is_valid():
        organization = get_object_or_404(members, pk=_posted_pk(request, "organization"))
        count = form_attempt(
            reopen,
            lambda: services.sheets_reopen_for(
                actor=request.user, panel=panel, organization=organization, reason=reopen.cleaned_data["reason"]
            ),
        )
        if count:
            messages.success(
                request,
                _("%(count)s sheets of %(organization)s have been reopened; the judges were told.")
                % {"count": count, "organization": organization.name_with_town},
            )
            return redirect("scoring:panel", pk=panel.pk)
    if action in {"reopen", "reopen_organization"} and reopen.errors:
        # The per-sheet forms are one line each: their errors are told as a message.
        messages.error(request, " ".join(e for errors in reopen.errors.values() for e in errors))
    if action == "remove_judge":
        judge = get_object_or_404(User, pk=_posted_pk(request, "judge"))
        try:
            services.panel_remove_judge(actor=request.user, panel=panel, judge=judge)
        except ValidationError as error:
            _errors(request, error)
        return redirect("scoring:panel", pk=panel.pk)
    if refused is None:
        judges, organizations = list(panel.judges.all()), list(panel.organizations.all())
        refused = services.named_pairs(
            services.conflicts(judges, organizations, year=scheme.year), judges, organizations
        )
    context = {
        "panel": panel,
        "scheme": scheme,
        "form": form,
        "reopen_form": reopen,
        "refused": refused,
        "sheets": panel.sheets.select_related("judge", "organization__parent").order_by(
            "organization__path", "judge__full_name"
        ),
        "may_manage": may_manage,
        "judges": panel.judges.order_by("full_name", "username"),
        "organizations": panel.organizations.select_related("parent").order_by("path"),
    }
    return render(request, "scoring/panel_detail.html", context)


@login_required
def my_sheets(request):
    sheets = list(selectors.sheets_of_judge(request.user))
    still_open = sum(1 for sheet in sheets if sheet.status != SheetStatus.SUBMITTED)
    return render(request, "scoring/my_sheets.html", {"sheets": sheets, "open": still_open})


@login_required
def sheet(request, pk):
    """The judge's phone sheet: only his or her own; what is typed is saved as it goes (each
    field posts itself on change), and submitting locks it."""
    sheet = get_object_or_404(JudgeSheet.objects.select_related("scheme", "organization__parent", "judge"), pk=pk)
    if sheet.judge_id != request.user.pk:
        raise Http404
    indicators = sheet.scheme.indicators.order_by("position", "code")
    saved = {score.indicator_id: score.score for score in sheet.scores.all()}
    form = SheetForm(
        # bound on every POST, an empty one too: errors are added to it (an unbound form has none)
        request.POST if request.method == "POST" else None,
        indicators=indicators,
        initial={f"i{indicator_id}": value for indicator_id, value in saved.items()},
    )
    if request.method == "POST":
        action = request.POST.get("action", "save")
        valid = form.is_valid()
        # What is valid is saved even beside a field in error: a draft never loses a good score.
        scores = form.scores()
        written = form_attempt(form, lambda: services.sheet_save(actor=request.user, sheet=sheet, scores=scores))
        if valid and written is not None and action == "submit":
            if form_attempt(form, lambda: services.sheet_submit(actor=request.user, sheet=sheet)):
                messages.success(request, _("Submitted: the sheet is locked."))
                return redirect("scoring:my_sheets")
        elif valid and written is not None and not request.htmx:
            messages.success(request, _("Saved."))
            return redirect("scoring:sheet", pk=sheet.pk)
        if request.htmx:
            # 200 even with errors: htmx swaps only successful responses, and the message must show.
            return render(request, "scoring/_sheet_saved.html", {"form": form})
    context = {
        "sheet": sheet,
        "form": form,
        "locked": sheet.status != "open" or sheet.scheme.state != SchemeState.SCORING,
    }
    return render(request, "scoring/sheet.html", context)


# --- the ranking board, explanations, statistics, appeals -------------------------------------------------


@login_required
def board(request, pk):
    """The ranking board ("PK"), readable on a projector and printable."""
    scheme = _scheme_for(request.user, pk)
    if scheme.state not in {SchemeState.AGGREGATED, *selectors.ANNOUNCED, SchemeState.SUPERSEDED}:
        messages.error(request, _("The results are shown once the scheme has been aggregated."))
        return redirect("scoring:scheme", pk=scheme.pk)
    if scheme.state == SchemeState.AGGREGATED and not selectors.may_read_all(request.user, scheme):
        raise Http404
    rows = selectors.board(scheme)
    all_ = selectors.may_read_all(request.user, scheme)
    mine = set() if all_ else set(selectors.explainable_organizations(request.user, scheme))
    # The components with a weight, in the order of DESIGN.md 5 (a project evaluation: the panel).
    columns = [name for name in COMPONENTS if scheme.weights[name] > 0]
    titles = selectors.project_titles(scheme) if scheme.kind == SchemeKind.PROJECTS else {}
    for row in rows:
        row.may_explain = all_ or row.organization_id in mine
        row.cells = [(COMPONENT_LABELS[name], getattr(row, name)) for name in columns]
        row.project_title = titles.get(row.organization_id, "")
    context = {
        "scheme": scheme,
        "rows": rows,
        "own": [row for row in rows if row.organization_id in mine],
        "columns": [COMPONENT_LABELS[name] for name in columns],
        "may_manage": selectors.may_manage(request.user, scheme),
        "projects": scheme.kind == SchemeKind.PROJECTS,
    }
    template = "scoring/board_print.html" if request.GET.get("print") else "scoring/board.html"
    return render(request, template, context)


@login_required
def explain(request, pk, code):
    scheme = _scheme_for(request.user, pk)
    organization = get_object_or_404(
        Organization.objects.select_related("parent"), code=code, scheme_memberships__scheme=scheme
    )
    if not selectors.may_read_explanation(request.user, scheme, organization):
        raise Http404
    all_ = selectors.may_read_all(request.user, scheme)
    may_appeal = (
        scheme.state == SchemeState.PUBLISHED
        and has_permission(request.user, Action.FILE_APPEAL, organization)
        and timezone.localdate() <= scheme.publication_ends_on
        and not scheme.appeals.filter(organization=organization, status="pending").exists()
    )
    form = AppealForm(request.POST or None)
    if request.method == "POST":
        if not has_permission(request.user, Action.FILE_APPEAL, organization):
            raise PermissionDenied
        # Past the announcement or with an appeal waiting, the service says so and the text stays.
        if form.is_valid() and form_attempt(
            form,
            lambda: services.appeal_file(
                actor=request.user, scheme=scheme, organization=organization, reason=form.cleaned_data["reason"]
            ),
        ):
            messages.success(request, _("Your appeal has been filed; the organization department will decide it."))
            return redirect("scoring:explain", pk=scheme.pk, code=code)
    from reviews.selectors import may_read_results, secretary_review_of

    review = secretary_review_of(organization, year=scheme.year) if scheme.weight_mass else None
    correction = getattr(scheme, "correction", None)
    context = {
        "scheme": scheme,
        "organization": organization,
        "review": review,
        "review_readable": review is not None and may_read_results(request.user, review.reportee.session),
        # The version that corrects this one, once the user may read it.
        "correction": correction
        if correction is not None and (all_ or correction.state in selectors.MEMBER_READABLE)
        else None,
        # Judges are named to the organizer's staff; an organization sees "judge 1, 2, …".
        "judges_named": all_,
        "may_appeal": may_appeal,
        "form": form,
        **selectors.explanation(scheme, organization),
    }
    return render(request, "scoring/explain.html", context)


@login_required
def judges(request, pk):
    scheme = _scheme_for(request.user, pk)
    if not selectors.may_read_all(request.user, scheme):
        raise Http404
    rows, indicators = selectors.judge_statistics(scheme)
    return render(request, "scoring/judges.html", {"scheme": scheme, "rows": rows, "indicators": indicators})


@login_required
def appeals(request, pk):
    scheme = _scheme_for(request.user, pk)
    if not selectors.may_read_all(request.user, scheme):
        raise Http404
    may_manage = selectors.may_manage(request.user, scheme)
    posted = request.POST.get("appeal", "") if request.method == "POST" else None
    if posted is not None and not may_manage:
        raise PermissionDenied
    # This version's appeals and those against the versions it corrects (still to be decided, some).
    rows = list(
        Appeal.objects.filter(scheme__in=selectors.versions_of(scheme))
        .select_related("scheme", "organization__parent", "filed_by", "resolved_by", "correction")
        .order_by("-scheme__version", "filed_at")
    )
    # One form per appeal, each with its own prefix: its fields, labels and errors are its own.
    for appeal in rows:
        appeal.form = ResolveForm(request.POST if posted == str(appeal.pk) else None, prefix=f"appeal{appeal.pk}")
    if posted is not None:
        appeal = next((row for row in rows if str(row.pk) == posted), None)
        if appeal is None:
            raise Http404
        if appeal.form.is_valid():
            result = form_attempt(
                appeal.form,
                lambda: services.appeal_resolve(actor=request.user, appeal=appeal, **appeal.form.cleaned_data),
            )
            if result:
                if result.correction_id:
                    messages.success(
                        request,
                        _(
                            "The appeal is upheld: this is the corrected version. Reopen the sheets to score "
                            "again (or change the deductions), then aggregate and announce it."
                        ),
                    )
                    return redirect("scoring:scheme", pk=result.correction_id)
                messages.success(request, _("The appeal has been rejected; the organization was told why."))
                return redirect("scoring:appeals", pk=scheme.pk)
    return render(request, "scoring/appeals.html", {"scheme": scheme, "rows": rows, "may_manage": may_manage})


@login_required
def deductions(request, pk):
    """Manual deductions (entered here) and, read-only, those the last aggregation took from the
    records (通报, overdue problems, late items): the organizer's staff write, leaders read."""
    scheme = _scheme_for(request.user, pk)
    if not selectors.may_read_all(request.user, scheme):
        raise Http404
    may_write = selectors.may_manage(request.user, scheme) and scheme.state in selectors.INPUTS_OPEN
    if request.method == "POST" and not may_write:
        raise PermissionDenied
    organizations = (
        Organization.objects.filter(scheme_memberships__scheme=scheme).select_related("parent").order_by("path")
    )
    form = DeductionForm(request.POST or None, organizations=organizations)
    if request.method == "POST":
        if request.POST.get("remove"):
            deduction = get_object_or_404(Deduction, pk=_posted_pk(request, "remove"), scheme=scheme)
            try:
                services.deduction_remove(actor=request.user, deduction=deduction)
            except ValidationError as error:
                _errors(request, error)
            else:
                messages.success(request, _("The deduction has been removed."))
            return redirect("scoring:deductions", pk=scheme.pk)
        if form.is_valid() and form_attempt(
            form, lambda: services.deduction_add(actor=request.user, scheme=scheme, **form.cleaned_data)
        ):
            messages.success(request, _("The deduction has been entered."))
            return redirect("scoring:deductions", pk=scheme.pk)
    context = {
        "scheme": scheme,
        "rows": scheme.deductions.select_related("organization__parent", "created_by").order_by("organization__path"),
        "from_records": selectors.deductions_from_records(scheme),
        "form": form,
        "may_write": may_write,
    }
    return render(request, "scoring/deductions.html", context)


@login_required
def quarterly(request):
    """平时考核: quarterly scores entered (or imported with the 平时考核 sheet) by staff; leaders read."""
    scope = organizations_where(request.user, Action.SET_UP_ASSESSMENT)
    readable = organizations_where(request.user, Action.READ_ASSESSMENT) | scope
    if not readable.exists():
        raise PermissionDenied
    may_write = scope.exists()
    if request.method == "POST" and not may_write:
        raise PermissionDenied
    year = _year(request)
    form = QuarterlyForm(request.POST or None, scope=scope, initial={"year": year})
    saved = (
        request.method == "POST"
        and form.is_valid()
        and form_attempt(form, lambda: services.quarterly_score_set(actor=request.user, **form.cleaned_data))
    )
    if saved:
        messages.success(request, _("Saved."))
        return redirect(f"{request.path}?year={form.cleaned_data['year']}")
    rows = (
        QuarterlyScore.objects.filter(year=year, organization__in=readable)
        .select_related("organization__parent")
        .order_by("organization__path", "quarter")
    )
    page = page_of(request, rows, per_page=100)
    return render(
        request,
        "scoring/quarterly.html",
        {"form": form, "rows": page.object_list, "page": page, "year": year, "may_write": may_write},
    )


# --- secretary projects -----------------------------------------------------------------------------------


@login_required
def projects(request):
    year = _year(request)
    rows = (
        selectors.projects_visible(request.user)
        .filter(year=year)
        .select_related("organization__parent", "secretary", "grant")
        .order_by("organization__path")
    )
    filing = organizations_where(request.user, Action.FILE_PROJECT)
    context = {
        "year": year,
        "rows": rows,
        "may_file": filing.exists(),
        "may_evaluate": acts_anywhere(request.user, Action.SET_UP_ASSESSMENT),
        # The library of the whole area is exported from its top organization.
        "export_root": top_organization(request.user, Action.SET_UP_ASSESSMENT),
    }
    return render(request, "scoring/projects.html", context)


@login_required
def project_create(request):
    filing = organizations_where(request.user, Action.FILE_PROJECT)
    organization = filing.filter(code=request.GET.get("org") or request.POST.get("org") or "").first() or filing.first()
    if organization is None:
        raise PermissionDenied
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project = form_attempt(
            form,
            lambda: services.project_file(
                actor=request.user, organization=organization, year=timezone.localdate().year, **form.cleaned_data
            ),
        )
        if project:
            messages.success(request, _("Your 立项书 has been filed for review."))
            return redirect("scoring:project", pk=project.pk)
    return render(request, "scoring/project_form.html", {"form": form, "organization": organization})


@login_required
def project_detail(request, pk):
    project = get_object_or_404(
        Project.objects.select_related(
            "organization__parent", "secretary", "reviewed_by", "accepted_by", "checklist_item"
        ),
        pk=pk,
    )
    if not selectors.projects_visible(request.user).filter(pk=project.pk).exists():
        raise Http404
    user = request.user
    may_review = has_permission(user, Action.REVIEW_PROJECT, project.organization)
    may_file = has_permission(user, Action.FILE_PROJECT, project.organization)
    action = request.POST.get("action") if request.method == "POST" else None
    staff_actions = {"approve", "return", "accept", "spend"}
    if action and not ((action in staff_actions and may_review) or (action in {"edit", "report"} and may_file)):
        raise PermissionDenied
    bound = {
        name: request.POST if action in names else None
        for name, names in [
            ("review", {"approve", "return"}),
            ("accept", {"accept"}),
            ("edit", {"edit"}),
            ("report", {"report"}),
            ("spend", {"spend"}),
        ]
    }
    attachments = project.organization.attachments.all()
    forms = {
        "review": ProjectReviewForm(bound["review"]),
        "accept": AcceptanceForm(bound["accept"]),
        "edit": ProjectForm(bound["edit"], initial={name: getattr(project, name) for name in services.PROJECT_FIELDS}),
        "report": ProjectReportForm(
            bound["report"],
            request.FILES if action == "report" else None,
            attachments=attachments,
            initial={"date": timezone.localdate()},
        ),
        "spend": SpendingForm(
            bound["spend"], request.FILES if action == "spend" else None, initial={"date": timezone.localdate()}
        ),
    }
    grant = getattr(project, "grant", None)
    writes = {
        "approve": ("review", lambda d: services.project_review(actor=user, project=project, approve=True, **d)),
        "return": ("review", lambda d: services.project_review(actor=user, project=project, approve=False, **d)),
        "accept": ("accept", lambda d: services.project_accept(actor=user, project=project, **d)),
        "edit": ("edit", lambda d: services.project_update(actor=user, project=project, **d)),
        "report": (
            "report",
            lambda d: services.project_report_add(
                actor=user,
                project=project,
                stage=d["stage"],
                date=d["date"],
                content=d["content"],
                uploads=d["files"],
                attachment_ids=[a.pk for a in d.get("existing") or []],
            ),
        ),
        "spend": ("spend", lambda d: services.spending_record(actor=user, grant=grant, **d)),
    }
    if action in writes:
        name, write = writes[action]
        if action == "spend" and grant is None:
            raise Http404
        form = forms[name]
        if form.is_valid() and form_attempt(form, lambda: write(form.cleaned_data)) is not None:
            done = {
                "approve": _(
                    "Approved into the project library and the secretary's checklist; the secretary was told."
                ),
                "return": _("Returned to the secretary with your comments."),
                "accept": _("The acceptance (验收) has been recorded."),
                "edit": _("The 立项书 has been saved."),
                "report": _("The progress report has been filed."),
                "spend": _("The spending has been recorded."),
            }
            messages.success(request, done[action])
            return redirect("scoring:project", pk=project.pk)
    spent = selectors.project_totals(grant) if grant else None
    context = {
        "project": project,
        "may_review": may_review,
        "may_file": may_file,
        "reports": project.reports.prefetch_related("attachments").select_related("submitted_by"),
        "grant": grant,
        "spent": spent,
        "spendings": grant.spendings.select_related("receipt", "recorded_by") if grant else [],
        "statuses": ProjectStatus,
        **{f"{name}_form": form for name, form in forms.items()},
    }
    return render(request, "scoring/project_detail.html", context)


@login_required
def evaluation_create(request):
    scope = organizations_where(request.user, Action.SET_UP_ASSESSMENT)
    owner = top_organization(request.user, Action.SET_UP_ASSESSMENT)
    if owner is None:
        raise PermissionDenied
    year = _year(request)
    candidates = (
        Project.objects.filter(
            organization__in=scope, year=year, status__in=[ProjectStatus.APPROVED, ProjectStatus.ACCEPTED]
        )
        .select_related("organization__parent")
        .order_by("organization__path")
    )
    form = EvaluationForm(
        request.POST or None,
        projects=candidates,
        initial={"name": f"{year}年度书记项目评审", "scoring_date": timezone.localdate(), "projects": list(candidates)},
    )
    if request.method == "POST" and form.is_valid():
        scheme = form_attempt(
            form,
            lambda: services.evaluation_create(
                actor=request.user,
                owner=owner,
                year=year,
                name=form.cleaned_data["name"],
                projects=form.cleaned_data["projects"],
                scoring_date=form.cleaned_data["scoring_date"],
            ),
        )
        if scheme:
            messages.success(request, _("The evaluation has been created: add its jury as a panel."))
            return redirect("scoring:scheme", pk=scheme.pk)
    return render(request, "scoring/evaluation_form.html", {"form": form, "owner": owner, "year": year})


@login_required
def grants(request, pk):
    scheme = _scheme_for(request.user, pk, manage=True)
    if scheme.kind != SchemeKind.PROJECTS:
        raise Http404
    rows = selectors.board(scheme)
    projects_by_org = dict(scheme.members.values_list("organization_id", "project_id"))
    top = request.GET.get("top", "5")
    top = int(top) if top.isdigit() else 5
    ranked = [projects_by_org[row.organization_id] for row in rows if row.rank <= top]
    ranked_projects = (
        Project.objects.filter(pk__in=projects_by_org.values())
        .select_related("organization__parent")
        .annotate(
            rank=Subquery(
                SchemeResult.objects.filter(scheme=scheme, organization_id=OuterRef("organization_id")).values("rank")
            ),
            funded=Exists(Grant.objects.filter(project=OuterRef("pk"))),
        )
        .order_by(F("rank").asc(nulls_last=True), "organization__path")
    )
    form = GrantForm(request.POST or None, projects=ranked_projects, initial={"projects": ranked, "amount": 50000})
    if request.method == "POST" and form.is_valid():
        awarded = form_attempt(
            form,
            lambda: services.grants_award(
                actor=request.user,
                evaluation=scheme,
                projects=form.cleaned_data["projects"],
                amount=form.cleaned_data["amount"],
            ),
        )
        if awarded is not None:
            if awarded:
                messages.success(request, _("%(count)s grants awarded.") % {"count": len(awarded)})
            else:
                messages.info(request, _("The projects chosen are funded already: no new grant."))
            return redirect("scoring:grants", pk=scheme.pk)
    funded = (
        Grant.objects.filter(evaluation=scheme)
        .select_related("project__organization__parent")
        .order_by("project__organization__path")
    )
    return render(request, "scoring/grants.html", {"scheme": scheme, "form": form, "funded": funded, "top": top})
