from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from checklists import selectors as checklist_selectors
from checklists.models import Attachment
from organizations.forms import form_attempt as _attempt
from organizations.listing import page_of
from organizations.models import OrganizationKind
from organizations.permissions import Action, acts_anywhere, has_permission, organizations_where, top_organization
from organizations.selectors import organization_ancestors, organization_get_visible
from organizations.timelines import log_response, wants_log

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
    Extension,
    Problem,
    UnannouncedSample,
)


def _root(request):
    code = request.GET.get("org")
    organization = organization_get_visible(request.user, code) if code else None
    if organization is None:
        organization = top_organization(request.user, Action.VIEW)
        if organization is None:
            raise PermissionDenied
    return organization


@login_required
def board(request):
    # The organization filtered by is the board's root; without one, the user's top organization.
    # ?unit=1: only the problems for which that organization is the responsible unit.
    filterset = selectors.problems_filtered(request.user, request.GET, root=lambda: _root(request))
    organization = filterset.area
    unit = request.GET.get("unit") == "1"
    problems = filterset.qs
    if unit:
        problems = problems.filter(responsible_unit=organization)
    printing = bool(request.GET.get("print"))
    page = page_of(request, problems, per_page=500 if printing else 50)
    context = {
        "organization": organization,
        "ancestors": organization_ancestors(organization, request.user),
        "rows": selectors.board(organization, request.user),
        "states": selectors.problem_states(organization, request.user),
        "filter": filterset,
        "page": page,
        "problems": selectors.with_countdown(page.object_list),
        "export_filters": filterset.query_string(),
        "unit": unit,
        "may_list": acts_anywhere(request.user, Action.LIST_PROBLEM),
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
            "organization__parent__parent",
            "responsible_unit__parent__parent",
            "responsible_person",
            "listed_by",
            "claimed_by",
            "plan",
        ),
        pk=pk,
    )
    # problems_visible: the organization concerned or the responsible unit is one the user sees
    if not (
        has_permission(user, Action.VIEW, problem.organization)
        or has_permission(user, Action.VIEW, problem.responsible_unit)
    ):
        raise Http404
    return problem


@login_required
def problem_detail(request, pk):
    problem = _problem_for(request.user, pk)
    if wants_log(request):
        return log_response(request, problem, lambda: selectors.problem_timeline(problem))
    permitted = selectors.problem_permitted(request.user, problem)
    action = request.POST.get("action") if request.method == "POST" else None
    if action and action not in permitted:
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
    # The ledger's evidence is offered only to those who may record in it.
    attachments = (
        checklist_selectors.attachments_of(problem.responsible_unit)
        if "record" in permitted
        else Attachment.objects.none()
    )
    page = selectors.problem_page(problem)
    forms = {
        "plan": PlanForm(bound["plan"], problem_deadline=problem.deadline),
        "record": RecordForm(
            bound["record"],
            request.FILES if action == "record" else None,
            attachments=attachments,
            initial={"date": timezone.localdate()},
        ),
        "closing": ClosingForm(bound["closing"]),
        "check": CheckForm(
            bound["check"],
            initial={"request_id": page["pending_closing_request_id"]},
        ),
        "extension": ExtensionForm(bound["extension"]),
        "decision": DecisionForm(bound["decision"]),
        "cancel": CancelForm(bound["cancel"]),
        "carry": CarryOverForm(bound["carry"]),
    }
    user = request.user
    writes = {
        "claim": (None, lambda data: services.problem_claim(actor=user, problem=problem)),
        "plan": (
            "plan",
            lambda data: services.problem_plan(
                actor=user, problem=problem, measures=data["measures"], person=data["person"], deadline=data["deadline"]
            ),
        ),
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
            messages.success(request, DONE[action])
            return redirect("supervision:problem", pk=problem.pk)
        if form_name is None:
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    buttons = {
        "plan": [("plan", _("Save the plan and start rectifying"))],
        "record": [("record", _("Add to the rectification ledger"))],
        "closing": [("request_closing", _("Request closing"))],
        "check": [("close", _("Passed: close")), ("fail", _("Failed: back to rectification"))],
        "extension": [("extend", _("Request the extension"))],
        "decision": [
            ("approve_extension", _("Approve the extension")),
            ("reject_extension", _("Refuse the extension")),
        ],
        "cancel": [("cancel", _("Cancel the problem"))],
        "carry": [("carry_over", _("Carry over to next year"))],
    }
    context = {
        **{f"{name}_buttons": labels for name, labels in buttons.items()},
        "problem": problem,
        "offered": selectors.problem_actions(
            request.user, problem, permitted, pending=page["pending_extension"] is not None
        ),
        **{f"{name}_form": form for name, form in forms.items()},
        **page,
        "today": timezone.localdate(),
    }
    return render(request, "supervision/problem_detail.html", context)


# What each action tells the user once done (not one "done" for all).
DONE = {
    "claim": gettext_lazy("You have signed for the problem."),
    "plan": gettext_lazy("The rectification plan is saved; rectification has started."),
    "record": gettext_lazy("Added to the rectification ledger."),
    "request_closing": gettext_lazy("Closing has been requested."),
    "close": gettext_lazy("The problem is closed."),
    "fail": gettext_lazy("The check failed; the problem is back in rectification."),
    "extend": gettext_lazy("The extension has been requested."),
    "approve_extension": gettext_lazy("Extension approved."),
    "reject_extension": gettext_lazy("Extension refused."),
    "cancel": gettext_lazy("The problem is cancelled."),
    "carry_over": gettext_lazy("The problem is carried over to next year."),
}


def _pending(problem):
    extension = selectors.pending_extension(problem)
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
            "extensions": selectors.problem_page(problem)["extensions"],
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
    rows = filterset.qs
    pending = request.GET.get("pending") == "1"  # the home page's "to decide" count opens this
    if pending:
        rows = rows.filter(outcome=Admonishment.Outcome.RECOMMENDED, may_decide=True)
    page = page_of(request, rows)
    total = page.paginator.count
    rows = page.object_list
    pk = request.POST.get("pk", "") if request.method == "POST" else None
    form = AdmonishmentForm(request.POST if pk is not None else None)
    if pk is not None:
        if not pk.isdigit():
            raise Http404
        admonishment = get_object_or_404(selectors.admonishments_visible(request.user), pk=pk)
        if not selectors.admonishment_may_decide(request.user, admonishment):
            raise PermissionDenied
        if form.is_valid() and _attempt(
            form,
            lambda: services.admonishment_decide(actor=request.user, admonishment=admonishment, **form.cleaned_data),
        ):
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
            "export_root": filterset.form.cleaned_data.get("org") or top_organization(request.user, Action.VIEW),
            "export_filters": filterset.query_string(),
            "form": form,
            "may_decide": may_decide,
            "outcomes": Admonishment.Outcome.choices,
            "pending": pending,
            "total": total,
        },
    )


@login_required
def follow_ups(request):
    """Follow-ups and supervision visits in the user's area: readable by every role above
    (leaders included, issue 14); the forms only for those who record them. ?month=YYYY-MM keeps
    that month's, as the supervisor's home counts them."""
    scope = organizations_where(request.user, Action.RECORD_FOLLOW_UP)
    may_record = scope.exists()
    visible = organizations_where(request.user, Action.VIEW)
    if not visible.exists():
        raise PermissionDenied
    action = request.POST.get("action") if request.method == "POST" else None
    if action and not may_record:
        raise PermissionDenied
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
    follow_up_filter = FollowUpFilter(request.GET, selectors.follow_ups_visible(request.user), scope=visible)
    # The month filtered by (the supervisor's home opens this month's) applies to the visits too.
    month = follow_up_filter.form.cleaned_data.get("month") if follow_up_filter.is_valid() else None
    visits = selectors.visits_visible(request.user).order_by("-date", "-pk")
    if month:
        visits = visits.filter(date__year=month.year, date__month=month.month)
    visits = page_of(request, visits, param="visits_page")
    aspects = dict(Aspect.choices)
    for visit in visits:
        visit.checks = [(aspects.get(key, key), value) for key, value in visit.answers.items()]
    context = {
        "form": form if may_record else None,
        "sample_form": sample_form if may_record else None,
        "page": page_of(request, follow_up_filter.qs),
        "filter": follow_up_filter,
        "visits": visits,
        "samples": page_of(
            request,
            UnannouncedSample.objects.filter(root__in=selectors.sample_roots(request.user)).select_related(
                "root__parent__parent"
            ),
            param="samples_page",
            per_page=20,
        ),
    }
    return render(request, "supervision/follow_ups.html", context)


@login_required
def sample_detail(request, pk):
    # Which villages get an unannounced visit is for the supervisors, not for those visited.
    sample = get_object_or_404(UnannouncedSample, pk=pk, root__in=selectors.sample_roots(request.user))
    again = services.sample_choose(sample.population, sample.size, sample.seed)
    chosen = selectors.sample_chosen(sample)
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
            return redirect("supervision:visit", pk=visit.pk)
    aspects = [
        (
            form[f"{aspect}_ok"],
            form[f"{aspect}_note"],
            form[f"{aspect}_problem"],
            form[f"{aspect}_category"],
            form[f"{aspect}_deadline"],
        )
        for aspect in Aspect
    ]
    return render(request, "supervision/visit_form.html", {"form": form, "aspects": aspects})


@login_required
def visits(request):
    """The supervision visits of the user's area, latest first."""
    context = {
        "visits": page_of(request, selectors.visits_visible(request.user)),
        "may_record": acts_anywhere(request.user, Action.RECORD_FOLLOW_UP),
    }
    return render(request, "supervision/visits.html", context)


@login_required
def visit_detail(request, pk):
    """One visit: each aspect's answer and note, and the problems its "no"s listed."""
    visit = get_object_or_404(selectors.visits_visible(request.user), pk=pk)
    answers = [(aspect.label, visit.answers.get(str(aspect), {})) for aspect in Aspect]
    context = {"visit": visit, "answers": answers, "problems": selectors.visit_problems(visit)}
    return render(request, "supervision/visit_detail.html", context)


@login_required
def notices(request):
    scope = organizations_where(request.user, Action.ISSUE_NOTICE)
    issuers = scope.order_by("path")
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
