from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.forms import form_attempt as _attempt
from organizations.listing import page_of
from organizations.models import Organization, OrganizationKind
from organizations.permissions import Action, has_permission, organizations_where
from organizations.selectors import organization_ancestors, organization_get_visible
from organizations.subtree import within

from . import selectors, services
from .filters import AdmonishmentFilter, FollowUpFilter, NoticeFilter
from .forms import (
    AdmonishmentForm,
    CancelForm,
    CarryOverForm,
    CheckForm,
    ClosingForm,
    DecisionForm,
    ExtensionForm,
    FollowUpForm,
    NoticeForm,
    PlanForm,
    ProblemForm,
    RecordForm,
    SampleForm,
    VisitForm,
)
from .models import (
    Admonishment,
    Aspect,
    Decision,
    Extension,
    FollowUp,
    Problem,
    RectificationPlan,
    UnannouncedSample,
)


def _root(request):
    code = request.GET.get("org")
    organization = organization_get_visible(request.user, code) if code else None
    if organization is None:
        organization = organizations_where(request.user, Action.VIEW).order_by("path").first()
        if organization is None:
            raise PermissionDenied
    return organization


@login_required
def board(request):
    filterset = selectors.problems_filtered(request.user, request.GET)
    filterset.form.is_valid()
    # The organization filtered by is the board's root; without one, the user's top organization.
    organization = filterset.form.cleaned_data.get("org") or _root(request)
    printing = bool(request.GET.get("print"))
    page = page_of(
        request, filterset.qs.filter(within(organization, through="organization__")), per_page=500 if printing else 50
    )
    context = {
        "organization": organization,
        "ancestors": organization_ancestors(organization),
        "rows": selectors.board(organization, request.user),
        "states": selectors.problem_states(organization, request.user),
        "filter": filterset,
        "page": page,
        "problems": selectors.with_countdown(page.object_list),
        "export_filters": filterset.query_string(),
        "may_list": organizations_where(request.user, Action.LIST_PROBLEM).exists(),
    }
    if printing:
        context["printed_on"] = timezone.localdate()
        context["totals"] = {
            key: sum(getattr(row, key) for row in context["rows"]) for key in ["open", "overdue", "closed"]
        }
        return render(request, "supervision/board_print.html", context)
    return render(request, "supervision/board.html", context)


@login_required
def problem_create(request):
    scope = organizations_where(request.user, Action.LIST_PROBLEM)
    if not scope.exists():
        raise PermissionDenied
    form = ProblemForm(
        request.POST or None,
        scope=scope,
        initial={
            "found_on": timezone.localdate(),
            "found_by": request.user.full_name,
            "organization": request.GET.get("org"),
        },
    )
    if request.method == "POST" and form.is_valid():
        problem = _attempt(form, lambda: services.problem_list(actor=request.user, **form.cleaned_data))
        if problem:
            messages.success(request, _("The problem has been listed."))
            return redirect("supervision:problem", pk=problem.pk)
    return render(request, "supervision/problem_form.html", {"form": form})


def _problem_for(user, pk):
    problem = get_object_or_404(
        Problem.objects.select_related(
            "organization", "responsible_unit", "responsible_person", "listed_by", "claimed_by"
        ),
        pk=pk,
    )
    if not selectors.problems_visible(user).filter(pk=problem.pk).exists():
        raise Http404
    return problem


# action → (the permission it needs, on the responsible unit or the organization above)
ACTIONS = {
    "claim": (Action.CLAIM_PROBLEM, "unit"),
    "plan": (Action.SUBMIT_RECORD, "unit"),
    "record": (Action.SUBMIT_RECORD, "unit"),
    "request_closing": (Action.SUBMIT_RECORD, "unit"),
    "extend": (Action.SUBMIT_RECORD, "unit"),
    "close": (Action.CLOSE_PROBLEM, "organization"),
    "fail": (Action.CLOSE_PROBLEM, "organization"),
    "approve_extension": (Action.DECIDE_EXTENSION, "organization"),
    "reject_extension": (Action.DECIDE_EXTENSION, "organization"),
    "cancel": (Action.LIST_PROBLEM, "organization"),
    "carry_over": (Action.LIST_PROBLEM, "organization"),
}


def _allowed(user, problem):
    """The actions the user may take on the problem. What staff above decide (close, extend,
    cancel) needs a role above both the organization and the responsible unit, so that a unit
    never checks its own rectification."""
    checked = {}

    def may(permission, organization):
        key = (permission, organization.pk)
        if key not in checked:
            checked[key] = has_permission(user, permission, organization)
        return checked[key]

    allowed = set()
    for action, (permission, where) in ACTIONS.items():
        if where == "unit":
            granted = may(permission, problem.responsible_unit)
        else:
            granted = may(permission, problem.organization) and may(permission, problem.responsible_unit)
        if granted:
            allowed.add(action)
    return allowed


def _may_decide(user, problem):
    return has_permission(user, Action.DECIDE_EXTENSION, problem.organization) and has_permission(
        user, Action.DECIDE_EXTENSION, problem.responsible_unit
    )


def _may_decide_admonishment(user, admonishment):
    """Staff above decide: above the organization and the responsible unit for a missed
    extension, above the organization for one recommended by a review."""
    if admonishment.problem_id:
        return _may_decide(user, admonishment.problem)
    return has_permission(user, Action.DECIDE_EXTENSION, admonishment.organization)


@login_required
def problem_detail(request, pk):
    problem = _problem_for(request.user, pk)
    allowed = _allowed(request.user, problem)
    action = request.POST.get("action") if request.method == "POST" else None
    if action and action not in allowed:
        raise PermissionDenied
    bound = {
        name: request.POST if action in names else None
        for name, names in [
            ("plan", {"plan"}),
            ("record", {"record"}),
            ("closing", {"request_closing"}),
            ("check", {"close", "fail"}),
            ("extension", {"extend"}),
            ("decision", {"approve_extension", "reject_extension"}),
            ("cancel", {"cancel"}),
            ("carry", {"carry_over"}),
        ]
    }
    attachments = problem.responsible_unit.attachments.all()
    forms = {
        "plan": PlanForm(bound["plan"]),
        "record": RecordForm(
            bound["record"],
            request.FILES if action == "record" else None,
            attachments=attachments,
            initial={"date": timezone.localdate()},
        ),
        "closing": ClosingForm(bound["closing"]),
        "check": CheckForm(
            bound["check"],
            initial={
                "request_id": problem.closing_requests.filter(passed__isnull=True).values_list("pk", flat=True).first()
            },
        ),
        "extension": ExtensionForm(bound["extension"]),
        "decision": DecisionForm(bound["decision"]),
        "cancel": CancelForm(bound["cancel"]),
        "carry": CarryOverForm(bound["carry"]),
    }
    user = request.user
    writes = {
        "claim": (None, lambda data: services.problem_claim(actor=user, problem=problem)),
        "plan": ("plan", lambda data: services.problem_plan(actor=user, problem=problem, **data)),
        "record": (
            "record",
            lambda data: services.rectification_record_add(
                actor=user,
                problem=problem,
                date=data["date"],
                content=data["content"],
                uploads=data["files"],
                attachment_ids=[a.pk for a in data.get("existing") or []],
            ),
        ),
        "request_closing": (
            "closing",
            lambda data: services.problem_request_closing(actor=user, problem=problem, **data),
        ),
        "close": ("check", lambda data: services.problem_check(actor=user, problem=problem, passed=True, **data)),
        "fail": ("check", lambda data: services.problem_check(actor=user, problem=problem, passed=False, **data)),
        "extend": ("extension", lambda data: services.extension_request(actor=user, problem=problem, **data)),
        "approve_extension": (
            "decision",
            lambda data: services.extension_decide(actor=user, extension=_pending(problem), approve=True, **data),
        ),
        "reject_extension": (
            "decision",
            lambda data: services.extension_decide(actor=user, extension=_pending(problem), approve=False, **data),
        ),
        "cancel": ("cancel", lambda data: services.problem_cancel(actor=user, problem=problem, **data)),
        "carry_over": ("carry", lambda data: services.problem_carry_over(actor=user, problem=problem, **data)),
    }
    if action in writes:
        form_name, write = writes[action]
        form = forms[form_name] if form_name else CheckForm({})
        if form.is_valid() and _attempt(form, lambda: write(form.cleaned_data)) is not None:
            messages.success(request, _("Done."))
            return redirect("supervision:problem", pk=problem.pk)
        if form_name is None:
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    buttons = {
        "plan": [("plan", _("Save the plan and start rectifying"))],
        "record": [("record", _("Save"))],
        "closing": [("request_closing", _("Request closing"))],
        "check": [("close", _("Passed: close")), ("fail", _("Failed: back to rectification"))],
        "extension": [("extend", _("Request"))],
        "decision": [("approve_extension", _("Approve")), ("reject_extension", _("Reject"))],
        "cancel": [("cancel", _("Cancel the problem"))],
        "carry": [("carry_over", _("Carry over"))],
    }
    context = {
        **{f"{name}_buttons": labels for name, labels in buttons.items()},
        "problem": problem,
        "allowed": allowed,
        **{f"{name}_form": form for name, form in forms.items()},
        "plan": RectificationPlan.objects.filter(problem=problem).first(),
        "records": problem.records.prefetch_related("attachments"),
        "closing_requests": problem.closing_requests.select_related("submitted_by", "checked_by"),
        "extensions": problem.extensions.select_related("requested_by", "decided_by"),
        "pending_extension": problem.extensions.filter(decision=Decision.PENDING).first(),
        "admonishments": problem.admonishments.select_related("person"),
        "timeline": selectors.problem_timeline(problem),
        "today": timezone.localdate(),
    }
    return render(request, "supervision/problem_detail.html", context)


def _pending(problem):
    extension = problem.extensions.filter(decision=Decision.PENDING).first()
    if extension is None:
        raise ValidationError(_("There is no extension request waiting for a decision."))
    return extension


@login_required
def problem_print(request, pk):
    """督办单: the handover notice, with the extension decisions, for printing."""
    problem = _problem_for(request.user, pk)
    return render(
        request,
        "supervision/problem_print.html",
        {
            "problem": problem,
            "extensions": problem.extensions.select_related("decided_by"),
            "printed_on": timezone.localdate(),
        },
    )


@login_required
def extension_print(request, pk):
    """延期审批单: one extension request and its decision, for signing and the file."""
    extension = get_object_or_404(Extension.objects.select_related("requested_by", "decided_by"), pk=pk)
    problem = _problem_for(request.user, extension.problem_id)
    return render(
        request,
        "supervision/extension_print.html",
        {"extension": extension, "problem": problem, "printed_on": timezone.localdate()},
    )


@login_required
def admonishments(request):
    scope = organizations_where(request.user, Action.VIEW)
    filterset = AdmonishmentFilter(
        request.GET,
        selectors.admonishments_visible(request.user).annotate(
            may_decide=selectors.admonishment_decidable(request.user)
        ),
        scope=scope,
    )
    page = page_of(request, filterset.qs)
    rows = page.object_list
    pk = request.POST.get("pk", "") if request.method == "POST" else None
    form = AdmonishmentForm(request.POST if pk is not None else None)
    if pk is not None:
        if not pk.isdigit():
            raise Http404
        admonishment = get_object_or_404(selectors.admonishments_visible(request.user), pk=pk)
        if not _may_decide_admonishment(request.user, admonishment):
            raise PermissionDenied
        if form.is_valid():
            services.admonishment_decide(actor=request.user, admonishment=admonishment, **form.cleaned_data)
            messages.success(request, _("Saved."))
            return redirect(request.get_full_path())
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
    may_decide = {row.pk for row in rows if row.may_decide}
    return render(
        request,
        "supervision/admonishments.html",
        {
            "rows": rows,
            "page": page,
            "filter": filterset,
            "export_root": filterset.form.cleaned_data.get("org") or scope.order_by("path").first(),
            "export_filters": filterset.query_string(),
            "form": form,
            "may_decide": may_decide,
            "outcomes": Admonishment.Outcome.choices,
        },
    )


@login_required
def follow_ups(request):
    scope = organizations_where(request.user, Action.RECORD_FOLLOW_UP)
    if not scope.exists():
        raise PermissionDenied
    action = request.POST.get("action") if request.method == "POST" else None
    kinds = [(kind, label) for kind, label in OrganizationKind.choices]
    form = FollowUpForm(
        request.POST if action == "record" else None, scope=scope, initial={"date": timezone.localdate()}
    )
    sample_form = SampleForm(
        request.POST if action == "sample" else None,
        scope=selectors.follow_up_roots(request.user),
        kinds=kinds,
        initial={"kinds": [OrganizationKind.VILLAGE, OrganizationKind.COMMUNITY], "size": 5},
    )
    if (
        action == "record"
        and form.is_valid()
        and _attempt(form, lambda: services.follow_up_record(actor=request.user, **form.cleaned_data))
    ):
        messages.success(request, _("Saved."))
        return redirect("supervision:follow_ups")
    if action == "sample" and sample_form.is_valid():
        sample = _attempt(sample_form, lambda: services.sample_draw(actor=request.user, **sample_form.cleaned_data))
        if sample:
            return redirect("supervision:sample", pk=sample.pk)
    visible = organizations_where(request.user, Action.VIEW)
    follow_up_filter = FollowUpFilter(
        request.GET,
        FollowUp.objects.filter(organization__in=visible).select_related("organization__parent__parent", "recorded_by"),
        scope=visible,
    )
    context = {
        "form": form,
        "sample_form": sample_form,
        "page": page_of(request, follow_up_filter.qs),
        "filter": follow_up_filter,
        "samples": page_of(
            request,
            UnannouncedSample.objects.filter(root__in=selectors.follow_up_roots(request.user)).select_related("root"),
            param="samples_page",
            per_page=20,
        ),
    }
    return render(request, "supervision/follow_ups.html", context)


@login_required
def sample_detail(request, pk):
    # Which villages get an unannounced visit is for the supervisors, not for those visited.
    sample = get_object_or_404(UnannouncedSample, pk=pk, root__in=selectors.follow_up_roots(request.user))
    again = services.sample_choose(sample.population, sample.size, sample.seed)
    chosen = Organization.objects.filter(code__in=sample.chosen).order_by("path")
    return render(
        request, "supervision/sample.html", {"sample": sample, "chosen": chosen, "reproduced": again == sample.chosen}
    )


@login_required
def visit_create(request):
    scope = organizations_where(request.user, Action.RECORD_FOLLOW_UP)
    if not scope.exists():
        raise PermissionDenied
    form = VisitForm(
        request.POST or None,
        scope=scope,
        initial={"date": timezone.localdate(), "organization": request.GET.get("org")},
    )
    if request.method == "POST" and form.is_valid():
        result = _attempt(
            form,
            lambda: services.visit_record(
                actor=request.user,
                organization=form.cleaned_data["organization"],
                date=form.cleaned_data["date"],
                answers=form.answers(),
                new_problems=form.new_problems(),
            ),
        )
        if result:
            visit, problems = result
            messages.success(
                request, _("The visit has been recorded; %(count)s problems listed.") % {"count": len(problems)}
            )
            return redirect(f"{reverse('supervision:board')}?org={visit.organization.code}")
    aspects = [
        (form[f"{aspect}_ok"], form[f"{aspect}_note"], form[f"{aspect}_problem"], form[f"{aspect}_deadline"])
        for aspect in Aspect
    ]
    return render(request, "supervision/visit_form.html", {"form": form, "aspects": aspects})


@login_required
def notices(request):
    scope = organizations_where(request.user, Action.LIST_PROBLEM)
    issuers = organizations_where(request.user, Action.CREATE_TEMPLATE).order_by("path")
    form = None
    if issuers.exists():
        form = NoticeForm(
            request.POST or None,
            scope=scope,
            initial={"year": timezone.localdate().year, "issued_on": timezone.localdate()},
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            notice = _attempt(
                form,
                lambda: services.notice_issue(
                    actor=request.user,
                    issuer=issuers.first(),
                    prefix=data["prefix"],
                    year=data["year"],
                    title=data["title"],
                    issued_on=data["issued_on"],
                    content=data["content"],
                    entries=data["named"],
                ),
            )
            if notice:
                return redirect("supervision:notice", pk=notice.pk)
    elif request.method == "POST":
        raise PermissionDenied
    filterset = NoticeFilter(
        request.GET, selectors.notices_visible(request.user), scope=organizations_where(request.user, Action.VIEW)
    )
    page = page_of(request, filterset.qs)
    return render(
        request,
        "supervision/notices.html",
        {"form": form, "notices": page.object_list, "page": page, "filter": filterset},
    )


@login_required
def notice_detail(request, pk):
    notice = get_object_or_404(selectors.notices_visible(request.user), pk=pk)
    return render(request, "supervision/notice_print.html", {"notice": notice})
