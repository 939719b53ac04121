from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.forms import form_attempt as _attempt
from organizations.listing import count_of, page_of
from organizations.permissions import Action, acts_anywhere, has_permission, organizations_where, require_permission
from organizations.selectors import organization_ancestors, organization_get_visible
from organizations.subtree import within
from organizations.timelines import log_response, wants_log

from . import selectors, services, thumbnails
from .filters import IssuedFilter, MeetingFilter, WaitingFilter
from .forms import (
    ClaimForm,
    CopyForm,
    DutyRecordForm,
    EntryForm,
    IssueForm,
    MeetingForm,
    OverrideForm,
    ResponsibleForm,
    ReviewForm,
    RevisionForm,
    TemplateForm,
    TemplateItemForm,
)
from .models import (
    Attachment,
    Checklist,
    ChecklistItem,
    ChecklistTemplate,
    DutyRecord,
    DutyReport,
    LedgerEntry,
    MeetingRecord,
    Occurrence,
    ReviewStatus,
    TemplateItem,
)


def _year(request):
    """The year asked for, or this year when it is missing or not a sensible year."""
    value = request.GET.get("year", "")
    return int(value) if value.isdigit() and 2000 <= int(value) <= 2100 else timezone.localdate().year


def _visible(user, organization):
    """404 for what lies outside the user's area: it is not shown to exist."""
    if not has_permission(user, Action.VIEW, organization):
        raise Http404
    return organization


@login_required
def home(request):
    user = request.user
    year = _year(request)
    mine = list(selectors.checklists_of_my_organizations(user, year=year))
    for checklist in mine:
        checklist.status, checklist.mark = selectors.status_of(checklist)
    _scope, acting = selectors.review_scope(user)
    context = {
        "year": year,
        "mine": mine,
        "templates": selectors.templates_readable(user).filter(year=year),
        "can_create": acts_anywhere(user, Action.CREATE_TEMPLATE),
        "review_count": sum(selectors.review_queue_totals(user).values()) if acting else 0,
        "submit_organizations": organizations_where(user, Action.SUBMIT_RECORD),
    }
    return render(request, "checklists/home.html", context)


# --- templates -----------------------------------------------------------------------------


@login_required
def template_create(request):
    owners = organizations_where(request.user, Action.CREATE_TEMPLATE).select_related("parent__parent").order_by("path")
    if not owners.exists():
        raise PermissionDenied
    form = TemplateForm(request.POST or None, owners=owners, initial={"year": timezone.localdate().year})
    if request.method == "POST" and form.is_valid():
        template = _attempt(form, lambda: services.template_create(actor=request.user, **form.cleaned_data))
        if template:
            return redirect("checklists:template", pk=template.pk)
    return render(request, "checklists/template_form.html", {"form": form})


def _template_for(user, pk):
    template = get_object_or_404(ChecklistTemplate.objects.select_related("owner__parent__parent"), pk=pk)
    _visible(user, template.owner)  # another area's template is not shown to exist
    require_permission(user, Action.CREATE_TEMPLATE, template.owner)
    return template


def _template_readable(user, pk):
    """A template is read by every role whose area holds its owner (leaders and staff above
    included, issue 14); outside it, it is not shown to exist."""
    template = get_object_or_404(ChecklistTemplate.objects.select_related("owner"), pk=pk)
    _visible(user, template.owner)
    return template


@login_required
def template_detail(request, pk):
    template = _template_readable(request.user, pk)
    user = request.user
    may_manage = has_permission(user, Action.CREATE_TEMPLATE, template.owner)
    if request.method == "POST" and not may_manage:
        raise PermissionDenied
    action = request.POST.get("action") if request.method == "POST" else None
    item_form = TemplateItemForm(request.POST if action == "add_item" else None, template=template)
    issue_form = IssueForm(
        request.POST if action == "issue" else None,
        scope=organizations_where(user, Action.ISSUE_CHECKLIST),
        year=template.year,
    )
    copy_form = CopyForm(
        request.POST if action == "copy" else None,
        initial={"year": template.year + 1, "name": template.name.replace(str(template.year), str(template.year + 1))},
    )
    if action == "add_item" and item_form.is_valid():
        fields = {name: item_form.cleaned_data[name] for name in item_form.Meta.fields}
        if _attempt(item_form, lambda: services.template_item_create(actor=user, template=template, **fields)):
            messages.success(request, _("The item has been added."))
            return redirect("checklists:template", pk=template.pk)
    if action == "issue" and issue_form.is_valid():
        run = _attempt(
            issue_form, lambda: services.issue_start(actor=user, template=template, **issue_form.cleaned_data)
        )
        if run:
            messages.success(request, _("Issuing to %(root)s has started.") % {"root": run.root.name_with_town})
            return redirect("checklists:template", pk=template.pk)
    if action == "copy" and copy_form.is_valid():
        copy = _attempt(
            copy_form, lambda: services.template_copy(actor=user, template=template, **copy_form.cleaned_data)
        )
        if copy:
            messages.success(request, _("The checklist has been copied forward."))
            return redirect("checklists:template", pk=copy.pk)
    issued = selectors.checklists_of_template(template, user)
    filterset = IssuedFilter(request.GET, issued, scope=organizations_where(user, Action.VIEW))
    page = page_of(request, filterset.qs)
    checklists = list(page.object_list)
    for checklist in checklists:
        checklist.status, checklist.mark = selectors.status_of(checklist)
    context = {
        "template": template,
        "items": template.items.all(),
        "score_total": sum(item.score for item in template.items.all()),
        "checklists": checklists,
        "page": page,
        "filter": filterset,
        "unclaimed_overdue": selectors.checklists_unclaimed_late(template, user).count(),
        "item_form": item_form,
        "issue_form": issue_form,
        "copy_form": copy_form,
        "run": template.issue_runs.select_related("root").first(),
        "may_manage": may_manage,
    }
    return render(request, "checklists/template_detail.html", context)


@login_required
def issue_status(request, pk):
    """The latest issuing of the template, polled by the page while it runs."""
    template = _template_readable(request.user, pk)
    run = template.issue_runs.select_related("root").first()
    response = render(request, "checklists/_issue_run.html", {"template": template, "run": run})
    if request.htmx and (run is None or run.status != "running"):
        response["HX-Refresh"] = "true"  # finished: the page again, with the issued checklists
    return response


@login_required
def template_item_edit(request, pk):
    item = get_object_or_404(TemplateItem.objects.select_related("template__owner"), pk=pk)
    template = _template_for(request.user, item.template_id)
    form = TemplateItemForm(request.POST or None, instance=item, template=template)
    if request.method == "POST" and request.POST.get("action") == "delete":
        try:
            services.template_item_delete(actor=request.user, item=item)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("checklists:template_item", pk=item.pk)
        messages.success(request, _("The item has been removed."))
        return redirect("checklists:template", pk=template.pk)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        if _attempt(form, lambda: services.template_item_update(actor=request.user, item=item, **fields)):
            messages.success(request, _("The item has been saved."))
            return redirect("checklists:template", pk=template.pk)
    return render(request, "checklists/template_item_form.html", {"form": form, "item": item, "template": template})


# --- checklists, items, occurrences --------------------------------------------------------


@login_required
def checklist_detail(request, pk):
    checklist = get_object_or_404(
        Checklist.objects.select_related("template", "organization__parent__parent", "claimed_by"), pk=pk
    )
    _visible(request.user, checklist.organization)
    if wants_log(request):
        return log_response(request, checklist, lambda: selectors.checklist_timeline(checklist))
    may_claim = has_permission(request.user, Action.CLAIM_CHECKLIST, checklist.organization)
    form = ClaimForm(request.POST or None)  # typed by the claimant, never prefilled (DESIGN.md 3)
    if request.method == "POST":
        if not may_claim:
            raise PermissionDenied
        if form.is_valid() and _attempt(
            form,
            lambda: services.checklist_claim(
                actor=request.user, checklist=checklist, signature=form.cleaned_data["signature"]
            ),
        ):
            messages.success(request, _("You have signed and claimed the checklist."))
            return redirect("checklists:checklist", pk=checklist.pk)
    context = {
        "checklist": checklist,
        "items": selectors.checklist_items(checklist),
        "claim_form": form if may_claim and not checklist.is_claimed else None,
        "differences": selectors.claim_differences(checklist) if not checklist.is_claimed else [],
        "claim_overdue": not checklist.is_claimed and checklist.claim_deadline < timezone.localdate(),
        "ancestors": organization_ancestors(checklist.organization, request.user),
    }
    return render(request, "checklists/checklist_detail.html", context)


@login_required
def checklist_print(request, pk):
    """The signed checklist for the file: its items with the persons responsible, the
    signature and when it was signed (issue 14, point 5)."""
    checklist = get_object_or_404(
        Checklist.objects.select_related("template__owner", "organization__parent__parent", "claimed_by"), pk=pk
    )
    _visible(request.user, checklist.organization)
    return render(
        request,
        "checklists/checklist_print.html",
        {
            "checklist": checklist,
            "items": selectors.checklist_items(checklist),
            "printed_on": timezone.localdate(),
        },
    )


@login_required
def item_detail(request, pk):
    item = get_object_or_404(
        ChecklistItem.objects.select_related(
            "checklist__organization__parent__parent", "checklist__template", "responsible"
        ),
        pk=pk,
    )
    organization = _visible(request.user, item.checklist.organization)
    if wants_log(request):
        return log_response(request, item, lambda: selectors.item_timeline(item))
    user = request.user
    action = request.POST.get("action") if request.method == "POST" else None
    may_submit = has_permission(user, Action.SUBMIT_RECORD, organization)
    may_assess = has_permission(user, Action.SET_UP_ASSESSMENT, organization) and not may_submit
    people = selectors.people_below(organization)
    responsible_form = ResponsibleForm(
        request.POST if action == "responsible" else None, people=people, initial={"responsible": item.responsible}
    )
    override_form = OverrideForm(
        request.POST if action == "override" else None,
        initial={"score": item.override_score, "reason": item.override_reason},
    )
    if action == "responsible":
        if not (may_submit or has_permission(user, Action.ISSUE_CHECKLIST, organization)):
            raise PermissionDenied
        if responsible_form.is_valid():
            services.checklist_item_set_responsible(actor=user, item=item, **responsible_form.cleaned_data)
            messages.success(request, _("The responsible person has been saved."))
            return redirect("checklists:item", pk=item.pk)
    if action == "override":
        if not may_assess:
            raise PermissionDenied
        if override_form.is_valid() and _attempt(
            override_form, lambda: services.checklist_item_override(actor=user, item=item, **override_form.cleaned_data)
        ):
            messages.success(request, _("The assessed score has been saved."))
            return redirect("checklists:item", pk=item.pk)
    context = {
        "item": item,
        "checklist": item.checklist,
        "occurrences": selectors.occurrences_of(item),
        "may_submit": may_submit,
        "responsible_form": responsible_form,
        "override_form": override_form if may_assess else None,
    }
    return render(request, "checklists/item_detail.html", context)


def _review(request, action, may_review, record, approve, reject):
    """The review part of a record's page: (form, redirect when the record was approved or
    returned). The form carries the submission time the reviewer read."""
    posted = action in {"approve", "return"}
    form = ReviewForm(request.POST if posted else None, initial={"seen": record.submitted_at.isoformat()})
    if not posted:
        return form, None
    if not may_review:
        raise PermissionDenied
    service = approve if action == "approve" else reject
    # The services name the record by its kind: entry=, meeting=, report=.
    name = {LedgerEntry: "entry", MeetingRecord: "meeting", DutyReport: "report"}[type(record)]
    if form.is_valid() and _attempt(form, lambda: service(actor=request.user, **{name: record}, **form.cleaned_data)):
        messages.success(request, _("Approved.") if action == "approve" else _("Returned with your comment."))
        return form, redirect("checklists:review")
    return form, None


def _evidence_kwargs(form):
    existing = form.cleaned_data.get("existing")
    return {"uploads": form.cleaned_data["files"], "attachment_ids": [a.pk for a in existing] if existing else []}


def _organization_attachments(organization):
    return selectors.attachments_of(organization)[:30]


@login_required
def entry_create(request, occurrence_pk):
    occurrence = get_object_or_404(
        Occurrence.objects.select_related("item__checklist__organization__parent__parent"), pk=occurrence_pk
    )
    organization = _visible(request.user, occurrence.item.checklist.organization)
    require_permission(request.user, Action.SUBMIT_RECORD, organization)
    attachments = selectors.attachments_of(organization)
    form = EntryForm(
        request.POST or None, request.FILES or None, attachments=attachments, initial={"date": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        entry = _attempt(
            form,
            lambda: services.entry_submit(
                actor=request.user,
                occurrence=occurrence,
                date=form.cleaned_data["date"],
                content=form.cleaned_data["content"],
                **_evidence_kwargs(form),
            ),
        )
        if entry:
            messages.success(request, _("The ledger entry has been submitted for review."))
            return redirect("checklists:item", pk=occurrence.item_id)
    return render(request, "checklists/entry_form.html", {"form": form, "occurrence": occurrence})


@login_required
def entry_detail(request, pk):
    entry = get_object_or_404(
        LedgerEntry.objects.select_related(
            "occurrence__item__checklist__template",
            "organization__parent__parent",
            "submitted_by",
            "reviewed_by",
            "previous",
            "meeting",
        ),
        pk=pk,
    )
    organization = _visible(request.user, entry.organization)
    if wants_log(request):
        return log_response(request, entry, lambda: selectors.entry_timeline(entry))
    user = request.user
    action = request.POST.get("action") if request.method == "POST" else None
    may_review = has_permission(user, Action.APPROVE_RECORD, organization) and entry.meeting_id is None
    may_submit = has_permission(user, Action.SUBMIT_RECORD, organization) and entry.meeting_id is None
    attachments = selectors.attachments_of(organization)
    initial = {"date": entry.date, "content": entry.content, "existing": entry.attachments.all()}
    edit_form = None
    if may_submit and entry.status in {ReviewStatus.SUBMITTED, ReviewStatus.RETURNED}:
        edit_form = EntryForm(
            request.POST if action == "edit" else None,
            request.FILES if action == "edit" else None,
            attachments=attachments,
            initial=initial,
        )
    elif may_submit and entry.status == ReviewStatus.APPROVED and not hasattr(entry, "next_version"):
        edit_form = RevisionForm(
            request.POST if action == "revise" else None,
            request.FILES if action == "revise" else None,
            attachments=attachments,
            initial=initial,
        )
    review_form, reviewed = _review(request, action, may_review, entry, services.entry_approve, services.entry_return)
    if reviewed:
        return reviewed
    if action in {"edit", "revise"}:
        if edit_form is None:
            raise PermissionDenied
        if edit_form.is_valid():
            data = edit_form.cleaned_data
            if action == "edit":
                done = _attempt(
                    edit_form,
                    lambda: services.entry_resubmit(
                        actor=user,
                        entry=entry,
                        date=data["date"],
                        content=data["content"],
                        **_evidence_kwargs(edit_form),
                    ),
                )
            else:
                done = _attempt(
                    edit_form,
                    lambda: services.entry_revise(
                        actor=user,
                        entry=entry,
                        date=data["date"],
                        content=data["content"],
                        reason=data["change_reason"],
                        **_evidence_kwargs(edit_form),
                    ),
                )
            if done:
                messages.success(request, _("Submitted for review."))
                return redirect("checklists:entry", pk=done.pk)
    context = {
        "entry": entry,
        "occurrence": entry.occurrence,
        "edit_form": edit_form,
        "edit_action": ("revise" if isinstance(edit_form, RevisionForm) else "edit"),
        "review_form": review_form if may_review and entry.status == ReviewStatus.SUBMITTED else None,
    }
    return render(request, "checklists/entry_detail.html", context)


@login_required
def attachment_choices(request):
    """The organization's files whose name contains what was typed, for the attachment picker."""
    organization = organization_get_visible(request.user, request.GET.get("org", ""))
    if organization is None:
        raise Http404
    require_permission(request.user, Action.SUBMIT_RECORD, organization)
    query = request.GET.get("attachment_q", "").strip()
    found = selectors.attachments_named(organization, query) if query else []
    return render(request, "checklists/_attachment_choices.html", {"found": found, "q": query})


@login_required
def attachment_download(request, pk):
    """The file as a download; `?view` shows a photo or a PDF in the browser, `?thumb` a photo's
    preview. Only types checked by content at upload are shown inline, never as HTML, with
    headers that keep the browser from guessing a type or running anything in them."""
    attachment = get_object_or_404(Attachment.objects.select_related("organization"), pk=pk)
    _visible(request.user, attachment.organization)
    if "thumb" in request.GET:
        preview = thumbnails.thumbnail_open(attachment)
        if preview is None:
            raise Http404
        response = FileResponse(preview, content_type="image/jpeg")
        response["Cache-Control"] = "private, max-age=86400"
    else:
        inline = "view" in request.GET and attachment.shown_inline
        response = FileResponse(
            attachment.file.open("rb"),
            as_attachment=not inline,
            filename=attachment.original_name,
            content_type=attachment.content_type,
        )
    response["X-Content-Type-Options"] = "nosniff"
    if attachment.content_type != "application/pdf" or "thumb" in request.GET:
        # Chromium's PDF viewer does not run in a sandboxed document; photos need nothing else.
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    else:
        response["Content-Security-Policy"] = "frame-ancestors 'self'"
    return response


# --- review --------------------------------------------------------------------------------


def _area(request):
    """The organization named by ?org= (404 outside the user's area), else the user's first
    root: the subtree a list is filtered to."""
    code = request.GET.get("org")
    if code:
        organization = organization_get_visible(request.user, code)
        if organization is None:
            raise Http404
        return organization
    organization = selectors.first_visible_root(request.user)
    if organization is None:
        raise PermissionDenied
    return organization


@login_required
def review_queue(request):
    scope, acting = selectors.review_scope(request.user)
    if not acting and not scope.exists():
        raise PermissionDenied
    organization = _area(request) if request.GET.get("org") else None
    visible = organizations_where(request.user, Action.VIEW)
    context = {"organization": organization, "acting": acting, "total": 0}
    for kind, queryset in selectors.review_queue(request.user, organization).items():
        filterset = WaitingFilter(request.GET, queryset, scope=visible)
        context[kind] = page_of(request, filterset.qs, param=f"{kind}_page")
        context["total"] += context[kind].paginator.count
    context["filter"] = filterset
    return render(request, "checklists/review.html", context)


@login_required
def due(request):
    """Occurrences overdue (?when=overdue) or due soon (?when=soon) in an area, by deadline,
    each one tap from its entry form."""
    organization = _area(request)
    when = request.GET.get("when") if request.GET.get("when") in selectors.DUE_WHEN else "overdue"
    own = request.GET.get("own") == "1"
    occurrences = selectors.occurrences_due(organization, request.user, when=when, own=own)
    context = {
        "organization": organization,
        "when": when,
        "own": own,
        "occurrences": page_of(request, occurrences),
        "submit_organizations": set(
            organizations_where(request.user, Action.SUBMIT_RECORD).values_list("pk", flat=True)
        ),
        "today": timezone.localdate(),
    }
    return render(request, "checklists/due.html", context)


@login_required
def unclaimed(request):
    organization = _area(request)
    own = request.GET.get("own") == "1"
    checklists = selectors.checklists_unclaimed(organization, request.user, own=own)
    context = {
        "organization": organization,
        "own": own,
        "checklists": page_of(request, checklists),
        "today": timezone.localdate(),
    }
    return render(request, "checklists/unclaimed.html", context)


@login_required
def returned(request):
    organization = _area(request)
    lists = selectors.records_returned(organization, request.user, own=request.GET.get("own") == "1")
    context = {"organization": organization}
    context.update({name: page_of(request, queryset, param=f"{name}_page") for name, queryset in lists.items()})
    context["total"] = sum(context[name].paginator.count for name in lists)
    labels = {"meetings": _("Meeting records"), "entries": _("Ledger entries"), "duty_reports": _("Duty record")}
    context["pages"] = [(labels[name], context[name], f"{name}_page") for name in lists]
    return render(request, "checklists/returned.html", context)


# --- meetings ------------------------------------------------------------------------------


def _submit_organization(request):
    code = request.GET.get("org") or request.POST.get("org")
    organization = organization_get_visible(request.user, code) if code else None
    if organization is None:
        options = organizations_where(request.user, Action.SUBMIT_RECORD)
        if options.count() != 1:
            raise Http404
        organization = options.get()
    require_permission(request.user, Action.SUBMIT_RECORD, organization)
    return organization


@login_required
def meeting_create(request):
    organization = _submit_organization(request)
    form = MeetingForm(
        request.POST or None,
        request.FILES or None,
        attachments=selectors.attachments_of(organization),
        initial={"date": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        meeting = _attempt(
            form,
            lambda: services.meeting_submit(
                actor=request.user,
                organization=organization,
                kind=data["kind"],
                date=data["date"],
                topic=data["topic"],
                expected=data["expected"],
                present=data["present"],
                absences=data["absences_text"],
                minutes=data["minutes"],
                **_evidence_kwargs(form),
            ),
        )
        if meeting:
            messages.success(
                request,
                _("The meeting record has been submitted; it fulfils %(count)s checklist items.")
                % {"count": meeting.entries.count()},
            )
            return redirect("checklists:meeting", pk=meeting.pk)
    return render(request, "checklists/meeting_form.html", {"form": form, "organization": organization})


@login_required
def meeting_detail(request, pk):
    meeting = get_object_or_404(
        MeetingRecord.objects.select_related("organization__parent__parent", "submitted_by", "reviewed_by"), pk=pk
    )
    organization = _visible(request.user, meeting.organization)
    user = request.user
    action = request.POST.get("action") if request.method == "POST" else None
    may_review = has_permission(user, Action.APPROVE_RECORD, organization)
    may_submit = has_permission(user, Action.SUBMIT_RECORD, organization)
    edit_form = None
    if may_submit and meeting.status in {ReviewStatus.SUBMITTED, ReviewStatus.RETURNED}:
        edit_form = MeetingForm(
            request.POST if action == "edit" else None,
            request.FILES if action == "edit" else None,
            instance=meeting,
            attachments=selectors.attachments_of(organization),
            initial={"existing": meeting.attachments.all()},
        )
    review_form, reviewed = _review(
        request, action, may_review, meeting, services.meeting_approve, services.meeting_return
    )
    if reviewed:
        return reviewed
    if action == "edit":
        if edit_form is None:
            raise PermissionDenied
        if edit_form.is_valid():
            data = edit_form.cleaned_data
            fields = {name: data[name] for name in ["kind", "date", "topic", "expected", "present", "minutes"]}
            if _attempt(
                edit_form,
                lambda: services.meeting_resubmit(
                    actor=user, meeting=meeting, absences=data["absences_text"], **fields, **_evidence_kwargs(edit_form)
                ),
            ):
                messages.success(request, _("Submitted for review."))
                return redirect("checklists:meeting", pk=meeting.pk)
    context = {
        "meeting": meeting,
        "entries": meeting.entries.select_related("occurrence__item"),
        "edit_form": edit_form,
        "review_form": review_form if may_review and meeting.status == ReviewStatus.SUBMITTED else None,
    }
    return render(request, "checklists/meeting_detail.html", context)


@login_required
def meetings_of(request, code):
    organization = organization_get_visible(request.user, code)
    if organization is None:
        raise Http404
    # The organization's own meetings, or its whole subtree's for an organization above.
    filterset = MeetingFilter(
        request.GET,
        MeetingRecord.objects.filter(within(organization, through="organization__"))
        .select_related("organization__parent__parent")
        .order_by("-date", "-pk"),
        scope=organizations_where(request.user, Action.VIEW),
    )
    page = page_of(request, filterset.qs)
    return render(
        request,
        "checklists/meetings.html",
        {
            "organization": organization,
            "meetings": page.object_list,
            "page": page,
            "filter": filterset,
            "may_submit": has_permission(request.user, Action.SUBMIT_RECORD, organization),
        },
    )


# --- duty records --------------------------------------------------------------------------


@login_required
def duty(request):
    """A secretary's duty record for a year on one page; entries added as they happen."""
    code = request.GET.get("org")
    organization = organization_get_visible(request.user, code) if code else None
    if organization is None:
        options = organizations_where(request.user, Action.SUBMIT_RECORD)
        if code:
            raise Http404
        if options.count() != 1:
            return _duty_index(request)
        organization = options.get()
    year = _year(request)
    may_submit = has_permission(request.user, Action.SUBMIT_RECORD, organization)
    action = request.POST.get("action") if request.method == "POST" else None
    form = DutyRecordForm(request.POST if action == "add" else None, initial={"date": timezone.localdate()})
    if action and not may_submit:
        raise PermissionDenied
    url = f"{request.path}?org={organization.code}&year={year}"
    if (
        action == "add"
        and form.is_valid()
        and _attempt(
            form, lambda: services.duty_record_add(actor=request.user, organization=organization, **form.cleaned_data)
        )
    ):
        messages.success(request, _("Recorded."))
        return redirect(url)
    if action == "send":
        try:
            month = timezone.datetime.strptime(request.POST.get("month", ""), "%Y-%m").date()
            services.duty_report_submit(actor=request.user, organization=organization, month=month)
            messages.success(request, _("The month has been sent up for review."))
        except (ValueError, ValidationError) as error:
            messages.error(request, " ".join(getattr(error, "messages", [_("Choose a month.")])))
        return redirect(url)
    records, reports = selectors.duty_year(organization, year)
    months = {}
    for record in records:
        months.setdefault(record.date.replace(day=1), []).append(record)
    context = {
        "organization": organization,
        "year": year,
        "form": form if may_submit else None,
        "months": [
            (month, months[month], reports.get(month), services.month_sendable_from(month))
            for month in sorted(months, reverse=True)
        ],
        "today": timezone.localdate(),
        "may_submit": may_submit,
        "to_send": selectors.duty_months_to_send(organization, year=year).count(),
    }
    return render(request, "checklists/duty.html", context)


def _duty_index(request):
    """履责纪实 of the whole area for those who read it (leaders, staff above): the months
    sent up, newest first, each opening its report and its organization's record."""
    visible = organizations_where(request.user, Action.VIEW)
    if not visible.exists():
        raise PermissionDenied
    reports = DutyReport.objects.filter(organization__in=visible).select_related("organization__parent__parent")
    reports = reports.annotate(record_count=count_of(DutyRecord.objects.all(), "report"))
    context = {"reports": page_of(request, reports.order_by("-month", "organization__path"))}
    return render(request, "checklists/duty_index.html", context)


@login_required
def duty_report_detail(request, pk):
    report = get_object_or_404(DutyReport.objects.select_related("organization__parent__parent", "submitted_by"), pk=pk)
    organization = _visible(request.user, report.organization)
    may_review = has_permission(request.user, Action.APPROVE_RECORD, organization)
    action = request.POST.get("action") if request.method == "POST" else None
    form, reviewed = _review(
        request, action, may_review, report, services.duty_report_approve, services.duty_report_return
    )
    if reviewed:
        return reviewed
    context = {
        "report": report,
        "records": report.records.all(),
        "review_form": form if may_review and report.status == ReviewStatus.SUBMITTED else None,
    }
    return render(request, "checklists/duty_report.html", context)


# --- progress ------------------------------------------------------------------------------


@login_required
def progress(request):
    code = request.GET.get("org")
    organization = organization_get_visible(request.user, code) if code else None
    if organization is None:
        organization = selectors.first_visible_root(request.user)
        if organization is None:
            raise PermissionDenied
    year = _year(request)
    children, summary, months = selectors.progress_overview(organization, request.user, year=year)
    for child in children:
        child.rate = selectors.rate(child.done, child.due)
    context = {
        "organization": organization,
        "year": year,
        "children": children,
        "summary": summary,
        "summary_rate": selectors.rate(summary["done"], summary["due"]),
        "months": months,
        "ancestors": organization_ancestors(organization, request.user),
        "checklists": selectors.checklists_of(organization),
    }
    return render(request, "checklists/progress.html", context)
