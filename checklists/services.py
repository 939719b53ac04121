"""Every write of the checklists app, each in one transaction with its operation-log rows."""

import logging
import re
import zlib
from datetime import date, datetime, time, timedelta

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from notifications.models import Notification
from notifications.services import notify, notify_many
from organizations.bulk import history_copy, last_id, prepared, quoted
from organizations.models import Organization, Person, Role, RoleAssignment

from .models import (
    EVIDENCE_EXTENSIONS,
    Attachment,
    Checklist,
    ChecklistItem,
    ChecklistTemplate,
    DutyRecord,
    DutyReport,
    IssueRun,
    IssueStatus,
    LedgerEntry,
    MeetingRecord,
    Occurrence,
    ProgressCount,
    ProgressSnapshot,
    ReviewStatus,
    TemplateItem,
    periods,
    periods_from,
)

logger = logging.getLogger(__name__)

# Entries whose approval counts: approved, or approved and since replaced by a newer version.
COUNTING = {ReviewStatus.APPROVED, ReviewStatus.SUPERSEDED}

ITEM_FIELDS = [
    "code",
    "category",
    "title",
    "requirement",
    "evidence",
    "frequency",
    "deadline",
    "score",
    "meeting_kind",
    "position",
]


def _save(instance, *, actor, reason):
    instance.full_clean()
    instance._history_user = actor
    instance._change_reason = reason
    instance.save()
    return instance


# --- templates -----------------------------------------------------------------------------


@transaction.atomic
def template_create(*, actor, owner, year, name, target_types, late_share=None):
    template = ChecklistTemplate(owner=owner, year=year, name=name, target_types=list(target_types))
    if late_share is not None:
        template.late_share = late_share
    return _save(template, actor=actor, reason=_("created"))


def _check_item_year(template, deadline):
    if deadline and deadline.year != template.year:
        raise ValidationError(
            {"deadline": _("The deadline must fall in %(year)s, the checklist's year.") % {"year": template.year}}
        )


@transaction.atomic
def template_item_create(*, actor, template, **fields):
    """A new item; checklists already issued from the template get it too (and are reopened)."""
    _check_item_year(template, fields.get("deadline"))
    item = _save(TemplateItem(template=template, **fields), actor=actor, reason=_("item added"))
    checklist_ids = list(template.checklists.values_list("pk", flat=True))
    if checklist_ids:
        _items_issue([item], template.checklists.all(), actor=actor)
        _claims_reopen(checklist_ids, actor=actor)
        if item.meeting_kind:
            _meetings_link(template.checklists.values("organization"), template.year, actor=actor)
    return item


@transaction.atomic
def template_item_update(*, actor, item, **fields):
    """Change an item and every issued copy of it. A change to what a claim freezes reopens the
    claims of those checklists; the occurrences follow a new frequency or deadline."""
    # Fresh from the database: a bound form may already have written the new values into `item`.
    item = TemplateItem.objects.select_for_update().select_related("template").get(pk=item.pk)
    # Locked first, so a claim being signed at this moment waits and then sees the change.
    checklists = list(Checklist.objects.select_for_update().filter(items__template_item=item).only("pk"))
    _check_item_year(item.template, fields.get("deadline", item.deadline))
    before = item.frozen_values()
    periods_before = (item.frequency, item.deadline)
    kind_before = item.meeting_kind
    for name, value in fields.items():
        setattr(item, name, value)
    _save(item, actor=actor, reason=_("item changed"))
    issued = list(item.issued.all())
    for copy in issued:
        for name in fields:
            setattr(copy, name, getattr(item, name))
    ChecklistItem.objects.bulk_update(issued, list(fields), batch_size=1000)
    ChecklistItem.history.bulk_history_create(
        issued, update=True, default_user=actor, default_change_reason=_("item changed")
    )
    if (item.frequency, item.deadline) != periods_before:
        _occurrences_rebuild(item)
    if item.frozen_values() != before:
        _claims_reopen([checklist.pk for checklist in checklists], actor=actor)
    if item.meeting_kind and item.meeting_kind != kind_before:
        _meetings_link(
            Checklist.objects.filter(pk__in=[c.pk for c in checklists]).values("organization"),
            item.template.year,
            actor=actor,
        )
    return item


@transaction.atomic
def template_item_delete(*, actor, item):
    if LedgerEntry.objects.filter(occurrence__item__template_item=item).exists():
        raise ValidationError(_("Records have been entered for this item; it can no longer be removed."))
    copies = ChecklistItem.objects.filter(template_item=item)
    checklist_ids = list(copies.values_list("checklist_id", flat=True))
    ChecklistItem.history.bulk_history_create(
        list(copies), update=True, default_user=actor, default_change_reason=_("item removed")
    )
    copies.delete()
    item._history_user, item._change_reason = actor, _("item removed")
    item.delete()
    progress_counts_refresh(Checklist.objects.filter(pk__in=checklist_ids).values("organization_id"))
    _claims_reopen(checklist_ids, actor=actor)


@transaction.atomic
def template_copy(*, actor, template, year, name=None):
    """Copy a template forward to another year; dates move to the same day of that year."""
    copy = template_create(
        actor=actor,
        owner=template.owner,
        year=year,
        name=name or template.name,
        target_types=template.target_types,
        late_share=template.late_share,
    )
    items = []
    for item in template.items.all():
        fields = {field: getattr(item, field) for field in ITEM_FIELDS}
        if item.deadline:
            fields["deadline"] = _same_day_in(item.deadline, year)
        items.append(TemplateItem(template=copy, **fields))
    bulk_create_with_history(items, TemplateItem, default_user=actor, default_change_reason=_("copied forward"))
    return copy


def _same_day_in(day, year):
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February
        return date(year, 2, 28)


# --- issuing and claiming ------------------------------------------------------------------


ISSUE_BATCH = 500  # organizations per transaction while issuing
STALE_RUN = timedelta(minutes=15)


def _issue_check(template):
    if not template.items.exists():
        raise ValidationError(_("The checklist has no items yet."))


def _effective_check(template, effective_from):
    if effective_from and effective_from.year > template.year:
        raise ValidationError(
            {"effective_from": _("The effective date must fall in %(year)s or before.") % {"year": template.year}}
        )


def checklist_issue(*, actor, template, root, claim_deadline, effective_from=None, progress=None):
    """One checklist per organization of a targeted type in root's subtree, with its items and
    occurrences, ISSUE_BATCH organizations per transaction so that memory stays bounded and
    progress(percent) can be told. Occurrences whose deadline falls before effective_from are
    not created (None: every period, for the past years brought in by the demo and imports).
    Issuing again adds only what is missing, and a checklist keeps the effective date it was
    first issued with, so a run cut short is completed by running it again.

    Set-based: each batch is a few INSERT … SELECT statements (checklists, their history rows,
    then _items_issue's), whatever the number of organizations in it."""
    _issue_check(template)
    _effective_check(template, effective_from)
    progress = progress or (lambda percent: None)
    targets = Organization.objects.subtree(root).filter(party_type__in=template.target_types)
    target_ids = list(targets.order_by("path").values_list("pk", flat=True))
    template_items = list(template.items.all())
    created = added = 0
    for start in range(0, len(target_ids), ISSUE_BATCH):
        batch = target_ids[start : start + ISSUE_BATCH]
        with transaction.atomic():
            created += _checklists_issue(template, batch, claim_deadline, effective_from, actor=actor)
            checklists = Checklist.objects.filter(template=template, organization_id__in=batch)
            added += _items_issue(template_items, checklists, actor=actor)
        progress(min(99, (start + len(batch)) * 100 // len(target_ids)))
    with transaction.atomic():
        # Meetings recorded before the checklist arrived fulfil it too.
        _meetings_link(targets.values("pk"), template.year, actor=actor)
    return created, added


def _checklists_issue(template, organization_ids, claim_deadline, effective_from, *, actor):
    """The checklists missing among these organizations, with their history: two statements."""
    table, _columns = quoted(Checklist)
    values, params = prepared(
        Checklist,
        template=template.pk,
        claim_deadline=claim_deadline,
        effective_from=effective_from,
        issued_at=timezone.now(),
        signature="",
        claimed_late=False,
        claim_snapshot={},
    )
    quote = connection.ops.quote_name
    organizations = quote(Organization._meta.db_table)
    ids = ", ".join(["%s"] * len(organization_ids))
    last = last_id(Checklist)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({quote('organization_id')}, {', '.join(values)}) "
            f"SELECT o.id, {', '.join(['%s'] * len(values))} FROM {organizations} o "
            f"WHERE o.id IN ({ids}) AND NOT EXISTS "
            f"(SELECT 1 FROM {table} c WHERE c.template_id = %s AND c.organization_id = o.id) ORDER BY o.id",
            params + list(organization_ids) + [template.pk],
        )
        created = cursor.rowcount
    if created:
        history_copy(
            Checklist,
            f"SELECT id FROM {table} WHERE template_id = %s AND id > %s",
            [template.pk, last],
            actor=actor,
            reason=_("issued"),
        )
    return created


def issue_start(*, actor, template, root, claim_deadline, effective_from=None):
    """Start issuing as a job (the page shows its progress), effective from the issue day
    unless told otherwise (a past year's checklist: from its start). Single flight per
    template; a run whose worker died (no sign of life for STALE_RUN) is marked failed so that
    a new one may start, and the new one completes what the dead one left."""
    from .tasks import issue

    # A year already over is issued whole: its checklist records work brought in afterwards.
    if effective_from is None and template.year >= timezone.localdate().year:
        effective_from = timezone.localdate()
    _issue_check(template)
    _effective_check(template, effective_from)
    with transaction.atomic():
        IssueRun.objects.filter(
            template=template, status=IssueStatus.RUNNING, heartbeat_at__lt=timezone.now() - STALE_RUN
        ).update(
            status=IssueStatus.FAILED, error=_("Its worker stopped giving signs of life."), finished_at=timezone.now()
        )
        try:
            with transaction.atomic():
                run = IssueRun.objects.create(
                    template=template,
                    root=root,
                    claim_deadline=claim_deadline,
                    effective_from=effective_from,
                    requested_by=actor,
                )
        except IntegrityError:
            raise ValidationError(_("This checklist is being issued already; wait for it to finish.")) from None
        ChecklistTemplate.history.bulk_history_create(
            [template],
            update=True,
            default_user=actor,
            default_change_reason=_("issuing to %(root)s started") % {"root": root.name},
        )
        issue.delay_on_commit(run.pk)
    return run


def issue_run(*, run_id):
    """The job: issue in batches, telling the run how far it got; done or failed at the end."""
    run = IssueRun.objects.select_related("template", "root", "requested_by").filter(pk=run_id).first()
    if run is None or run.status != IssueStatus.RUNNING:
        return None

    def progress(percent):
        IssueRun.objects.filter(pk=run_id).update(progress=percent, heartbeat_at=timezone.now())

    try:
        with translation.override(settings.LANGUAGE_CODE):
            created, added = checklist_issue(
                actor=run.requested_by,
                template=run.template,
                root=run.root,
                claim_deadline=run.claim_deadline,
                effective_from=run.effective_from,
                progress=progress,
            )
    except Exception as error:
        logger.exception("issue run %s failed", run_id)
        IssueRun.objects.filter(pk=run_id).update(
            status=IssueStatus.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        raise
    IssueRun.objects.filter(pk=run_id).update(
        status=IssueStatus.DONE,
        progress=100,
        checklists_created=created,
        items_added=added,
        finished_at=timezone.now(),
    )
    return created, added


def _items_issue(template_items, checklists, *, actor):
    """Copy template items into the checklists (a queryset) that lack them, with their history
    and occurrences: one INSERT … SELECT each (occurrences: one per effective date among the
    checklists, the periods of each template item given as a VALUES list). Returns how many
    items were added."""
    if not template_items:
        return 0
    quote = connection.ops.quote_name
    items, fields = quoted(ChecklistItem, *ITEM_FIELDS)
    chosen_sql, chosen_params = checklists.order_by().values("pk").query.sql_with_params()
    template_ids = [item.pk for item in template_items]
    marks = ", ".join(["%s"] * len(template_ids))
    extra, extra_params = prepared(ChecklistItem, override_reason="")
    last = last_id(ChecklistItem)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {items} (checklist_id, template_item_id, {', '.join(fields + extra)}) "
            f"SELECT c.id, ti.id, {', '.join(f'ti.{name}' for name in fields)}, {', '.join(['%s'] * len(extra))} "
            f"FROM {quote(Checklist._meta.db_table)} c CROSS JOIN {quote(TemplateItem._meta.db_table)} ti "
            f"WHERE c.id IN ({chosen_sql}) AND ti.id IN ({marks}) AND NOT EXISTS "
            f"(SELECT 1 FROM {items} i WHERE i.checklist_id = c.id AND i.template_item_id = ti.id) "
            "ORDER BY c.id, ti.position, ti.id",
            extra_params + list(chosen_params) + template_ids,
        )
        added = cursor.rowcount
    if not added:
        return 0
    new_sql = f"SELECT id FROM {items} WHERE id > %s AND checklist_id IN ({chosen_sql})"
    new_params = [last, *chosen_params]
    history_copy(ChecklistItem, new_sql, new_params, actor=actor, reason=_("issued"))
    year = template_items[0].template.year
    occurrences, columns = quoted(Occurrence, "item", "index", "period_start", "deadline", "late")
    for effective in checklists.order_by().values_list("effective_from", flat=True).distinct():
        periods = [
            (item.pk, index, period_start, deadline)
            for item in template_items
            for index, period_start, deadline in periods_from(item.frequency, year, item.deadline, effective)
        ]
        if not periods:
            continue
        values = ", ".join(["(%s, %s, %s, %s)"] * len(periods))
        date_field = Occurrence._meta.get_field("deadline")
        period_params = [
            value
            for item_id, index, period_start, deadline in periods
            for value in (
                item_id,
                index,
                date_field.get_db_prep_save(period_start, connection),
                date_field.get_db_prep_save(deadline, connection),
            )
        ]
        same_date = "c.effective_from IS NULL" if effective is None else "c.effective_from = %s"
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {occurrences} ({', '.join(columns)}) "
                "SELECT i.id, p.column2, p.column3, p.column4, %s "
                f"FROM {items} i JOIN {quote(Checklist._meta.db_table)} c ON c.id = i.checklist_id "
                f"JOIN (VALUES {values}) p ON p.column1 = i.template_item_id "
                f"WHERE i.id IN ({new_sql}) AND {same_date} ORDER BY i.id, p.column2",
                [False, *period_params, *new_params]
                + ([] if effective is None else [date_field.get_db_prep_save(effective, connection)]),
            )
    progress_counts_refresh(checklists.values("organization_id"))
    return added


def _occurrences_rebuild(template_item):
    """Give every issued copy of an item the periods of its new frequency or deadline. Entries
    follow their dates into the new periods, and done / late are worked out again from the
    approved entries, so nothing done is lost or credited to the wrong period."""
    copies = ChecklistItem.objects.filter(template_item=template_item)
    effective = dict(copies.values_list("pk", "checklist__effective_from"))
    all_periods = periods(template_item.frequency, template_item.template.year, template_item.deadline)
    # Each copy keeps to its checklist's effective date; entries already made keep a period.
    kept = {
        copy_id: [p for p in all_periods if not since or p[2] >= since] or all_periods[-1:]
        for copy_id, since in effective.items()
    }
    old = Occurrence.objects.filter(item_id__in=list(effective))
    old_ids = list(old.values_list("pk", flat=True))
    old.update(index=F("index") + 100)  # out of the way of the new indexes
    created = Occurrence.objects.bulk_create(
        [
            Occurrence(item_id=copy_id, index=index, period_start=start, deadline=end)
            for copy_id, copy_periods in kept.items()
            for index, start, end in copy_periods
        ],
        batch_size=2000,
    )
    by_period = {(occurrence.item_id, occurrence.index): occurrence for occurrence in created}
    entries = list(LedgerEntry.objects.filter(occurrence_id__in=old_ids).select_related("occurrence"))
    for entry in entries:
        copy_periods = kept[entry.occurrence.item_id]
        index = next((i for i, start, end in copy_periods if entry.date <= end), copy_periods[-1][0])
        entry.occurrence = by_period[(entry.occurrence.item_id, index)]
    LedgerEntry.objects.bulk_update(entries, ["occurrence"], batch_size=1000)
    Occurrence.objects.filter(pk__in=old_ids).delete()
    # done = the first approval of the period; late if that entry was first submitted after it.
    done = {}
    for entry in sorted((e for e in entries if e.reviewed_at and e.status in COUNTING), key=lambda e: e.reviewed_at):
        done.setdefault(entry.occurrence.pk, entry)
    for entry in done.values():
        occurrence = entry.occurrence
        occurrence.done_at = entry.reviewed_at
        occurrence.late = timezone.localtime(entry.first_submitted_at).date() > occurrence.deadline
    Occurrence.objects.bulk_update([entry.occurrence for entry in done.values()], ["done_at", "late"], batch_size=1000)
    progress_counts_refresh(copies.values("checklist__organization_id"))


def _claims_reopen(checklist_ids, *, actor):
    """A change to frozen fields reopens the claim; the snapshot stays to show differences."""
    claimed = Checklist.objects.select_for_update().filter(pk__in=checklist_ids, claimed_at__isnull=False)
    ids = list(claimed.values_list("pk", flat=True))
    if not ids:
        return
    claimed.update(claimed_at=None, claimed_by=None, signature="", reopened_at=timezone.now())  # history keeps who
    Checklist.history.bulk_history_create(
        list(Checklist.objects.filter(pk__in=ids)),
        update=True,
        default_user=actor,
        default_change_reason=_("claim reopened"),
    )
    _notify_organizations(
        Organization.objects.filter(checklists__pk__in=ids),
        roles=[Role.SECRETARY],
        title=_("A checklist you claimed has changed: please review and claim it again"),
        url=reverse("checklists:home"),
    )


def signer_name(user):
    """The name a claimant signs with: the person behind the account, else the account's name."""
    person = Person.objects.filter(user=user).only("name").first()
    return person.name if person else user.full_name


@transaction.atomic
def checklist_claim(*, actor, checklist, signature, on_paper=False):
    """签字认领: the claimant's own name typed (as the platform knows the person behind the
    account), the time and the user; freezes the claimed items. A claim after the claim deadline
    is accepted and marked late for good (DESIGN.md 3)."""
    checklist = Checklist.objects.select_for_update().get(pk=checklist.pk)
    signature = "".join(signature.split())
    if not signature:
        raise ValidationError({"signature": _("Type your name to sign.")})
    # on_paper: a claim signed on paper and entered from the command line by an archive account
    # (the demo's past): the name is the paper's, not the account's. No page passes it.
    if not on_paper:
        own_name = "".join(signer_name(actor).split())
        if not own_name:
            raise ValidationError(
                _("Your account has no name on record; ask the administrator to add it before signing.")
            )
        if signature != own_name:
            raise ValidationError({"signature": _("Sign with your own name as registered on the platform.")})
    if checklist.is_claimed:
        raise ValidationError(_("This checklist has been claimed already."))
    checklist.claimed_at, checklist.claimed_by, checklist.signature = timezone.now(), actor, signature
    # A late claim is accepted, and marked for good (DESIGN.md 3).
    checklist.claimed_late = checklist.claimed_late or timezone.localdate() > checklist.claim_deadline
    checklist.claim_snapshot = {str(item.pk): item.frozen_values() for item in checklist.items.all()}
    return _save(checklist, actor=actor, reason=_("claimed"))


@transaction.atomic
def checklist_item_add(*, actor, checklist, reason, **fields):
    """An item of one organization's own (a secretary project approved into its checklist,
    DESIGN.md 5), with its occurrences. The list changed, so a claim is reopened."""
    checklist = Checklist.objects.select_for_update().select_related("template").get(pk=checklist.pk)
    if fields.get("deadline") and fields["deadline"].year != checklist.template.year:
        raise ValidationError(
            {
                "deadline": _("The deadline must fall in %(year)s, the checklist's year.")
                % {"year": checklist.template.year}
            }
        )
    fields.setdefault("position", (checklist.items.count() + 1) * 10)
    item = _save(ChecklistItem(checklist=checklist, **fields), actor=actor, reason=reason)
    Occurrence.objects.bulk_create(
        [
            Occurrence(item=item, index=index, period_start=start, deadline=end)
            for index, start, end in periods_from(
                item.frequency, checklist.template.year, item.deadline, checklist.effective_from
            )
        ]
    )
    progress_counts_refresh([checklist.organization_id])
    _claims_reopen([checklist.pk], actor=actor)
    return item


@transaction.atomic
def checklist_item_set_responsible(*, actor, item, responsible):
    item.responsible = responsible
    return _save(item, actor=actor, reason=_("responsible person set"))


@transaction.atomic
def checklist_item_override(*, actor, item, score, reason):
    """The assessor's year-end score for an item, with the reason kept (DESIGN.md 3)."""
    if score is not None and not 0 <= score <= item.score:
        raise ValidationError({"score": _("The assessed score must lie between 0 and %(max)s.") % {"max": item.score}})
    item.override_score, item.override_reason = score, reason.strip() if score is not None else ""
    return _save(item, actor=actor, reason=_("score assessed") if score is not None else _("assessed score removed"))


# --- attachments ---------------------------------------------------------------------------

# Evidence accepted (DESIGN.md 3): photos, PDF and Office files, checked by content; the
# stored name takes its extension from the detected type (checklists.models.evidence_path).
ALLOWED_TYPES = EVIDENCE_EXTENSIONS

# PDF names that run code or carry files when the document is opened: scripts (also those of
# /OpenAction and /AA, which name /JS), launched programs, embedded files, rich media, XFA forms.
PDF_ACTIVE_NAMES = {b"JS", b"JavaScript", b"Launch", b"EmbeddedFile", b"EmbeddedFiles", b"RichMedia", b"XFA"}
PDF_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]+)")
PDF_STREAM = re.compile(rb"(?<!end)stream\r?\n")
# A compressed stream is inflated only up to this many bytes to be searched (a small PDF
# cannot make the check use unbounded memory).
PDF_INFLATE_LIMIT = 32 * 1024 * 1024


def _pdf_names(data):
    """Every name (/Name) in the bytes, with #xx escapes decoded (/J#61vaScript is /JavaScript)."""
    for match in PDF_NAME.finditer(data):
        name = match.group(1)
        if b"#" in name:
            name = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), name)
        yield name


def pdf_is_active(upload):
    """Whether a PDF holds JavaScript, launch actions or embedded files (refused as evidence).

    Dictionaries are searched in the file and inside its object streams (/ObjStm, compressed
    with Flate); an object stream that cannot be inflated counts as active, since its content
    cannot be checked. Page contents and images are not inflated: they hold no actions."""
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    if PDF_ACTIVE_NAMES.intersection(_pdf_names(data)):
        return True
    budget, view = PDF_INFLATE_LIMIT, memoryview(data)
    for match in PDF_STREAM.finditer(data):
        header = data.rfind(b"obj", 0, match.start())  # this stream's own dictionary
        if b"ObjStm" not in set(_pdf_names(data[max(header, 0) : match.start()])):
            continue
        end = data.find(b"endstream", match.end())
        try:
            inflated = zlib.decompressobj().decompress(view[match.end() : end if end > 0 else None], max(budget, 1))
        except zlib.error:
            return True
        budget -= len(inflated)
        if budget <= 0 or PDF_ACTIVE_NAMES.intersection(_pdf_names(inflated)):
            return True
    return False


def attachment_check(upload):
    """The file's real type, from its content (filetype, pure Python), or a ValidationError."""
    if getattr(upload, "refused", ""):  # the request was too large to keep it (config/uploads.py)
        raise ValidationError(upload.refused)
    if upload.size > settings.EVIDENCE_MAX_FILE_BYTES:
        raise ValidationError(
            _("%(name)s is larger than %(limit)s MB.")
            % {"name": upload.name, "limit": settings.EVIDENCE_MAX_FILE_BYTES // 1024 // 1024}
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in ALLOWED_TYPES:
        raise ValidationError(
            _("%(name)s is not an accepted file: photos (JPEG, PNG, HEIC), PDF, Word, Excel or PowerPoint files only.")
            % {"name": upload.name}
        )
    if kind.mime == "application/pdf" and pdf_is_active(upload):
        raise ValidationError(
            _(
                "%(name)s contains scripts, actions or embedded files, which are not accepted in evidence: "
                "print it to a new PDF (or save it as a plain PDF) and upload that."
            )
            % {"name": upload.name}
        )
    return kind.mime


def attachments_for(*, actor, organization, uploads, existing_ids):
    """New attachments from uploads plus existing ones of the same organization."""
    existing = list(Attachment.objects.filter(organization=organization, pk__in=existing_ids or []))
    if len(existing) + len(uploads) > settings.EVIDENCE_MAX_FILES:
        raise ValidationError(_("At most %(limit)s files per record.") % {"limit": settings.EVIDENCE_MAX_FILES})
    created = []
    for upload in uploads:
        mime = attachment_check(upload)
        attachment = Attachment(
            organization=organization,
            original_name=upload.name[:255],
            content_type=mime,
            size=upload.size,
            uploaded_by=actor,
        )
        attachment.file.save(upload.name, upload, save=False)
        attachment.save()
        created.append(attachment)
    return existing + created


# --- ledger entries ------------------------------------------------------------------------


def work_date_check(day, field="date"):
    """A record of work done is never dated after today (DESIGN.md 3)."""
    today = timezone.localdate()
    if day is not None and day > today:
        raise ValidationError(
            {field: _("The date cannot be after today (%(today)s): record work once it is done.") % {"today": today}}
        )


def _reviewed_fields(actor, now=None):
    now = now or timezone.now()
    return {"submitted_by": actor, "first_submitted_at": now, "submitted_at": now, "status": ReviewStatus.SUBMITTED}


@transaction.atomic
def entry_submit(*, actor, occurrence, date, content, uploads=(), attachment_ids=()):
    work_date_check(date)
    occurrence = (
        Occurrence.objects.select_for_update().select_related("item__checklist__organization").get(pk=occurrence.pk)
    )
    if occurrence.done_at is not None:
        raise ValidationError(_("This period is done; to change its record, submit a new version of it."))
    if occurrence.entries.filter(status=ReviewStatus.SUBMITTED).exists():
        raise ValidationError(_("An entry for this period is waiting for review; correct that one instead."))
    organization = occurrence.item.checklist.organization
    entry = LedgerEntry(
        occurrence=occurrence, organization=organization, date=date, content=content, **_reviewed_fields(actor)
    )
    _save(entry, actor=actor, reason=_("submitted"))
    entry.attachments.set(
        attachments_for(actor=actor, organization=organization, uploads=uploads, existing_ids=attachment_ids)
    )
    return entry


@transaction.atomic
def entry_resubmit(*, actor, entry, date, content, uploads=(), attachment_ids=()):
    """Correct an entry that is waiting or was returned; its first submission time stays."""
    work_date_check(date)
    entry = LedgerEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.status not in {ReviewStatus.SUBMITTED, ReviewStatus.RETURNED} or entry.meeting_id:
        raise ValidationError(_("Only an entry waiting for review or returned can be corrected."))
    entry.date, entry.content, entry.status, entry.submitted_at = date, content, ReviewStatus.SUBMITTED, timezone.now()
    entry.submitted_by = actor  # whoever last changed it may not be the one to approve it
    _save(entry, actor=actor, reason=_("resubmitted"))
    entry.attachments.set(
        attachments_for(actor=actor, organization=entry.organization, uploads=uploads, existing_ids=attachment_ids)
    )
    return entry


@transaction.atomic
def entry_revise(*, actor, entry, date, content, reason, uploads=(), attachment_ids=()):
    """An approved entry is locked: a change is a new version, with a reason, that goes back
    to review while the approved version keeps counting (DESIGN.md 3)."""
    work_date_check(date)
    entry = LedgerEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.status != ReviewStatus.APPROVED or entry.meeting_id:
        raise ValidationError(_("Only an approved entry is changed through a new version."))
    if LedgerEntry.objects.filter(previous=entry).exists():
        raise ValidationError(_("A newer version of this entry exists already."))
    if not reason.strip():
        raise ValidationError({"change_reason": _("Say why the approved entry changes.")})
    version = LedgerEntry(
        occurrence=entry.occurrence,
        organization=entry.organization,
        date=date,
        content=content,
        previous=entry,
        version=entry.version + 1,
        change_reason=reason.strip(),
        **_reviewed_fields(actor),
    )
    _save(version, actor=actor, reason=_("new version submitted"))
    version.attachments.set(
        attachments_for(actor=actor, organization=entry.organization, uploads=uploads, existing_ids=attachment_ids)
    )
    return version


def _occurrences_mark_done(entries):
    """The first approved entry makes its occurrence done, late if first submitted after the
    deadline (a late mark stays). Conditional updates: concurrent approvals cannot undo it."""
    for entry in entries:
        submitted_on = timezone.localtime(entry.first_submitted_at).date()
        Occurrence.objects.filter(pk=entry.occurrence_id, done_at__isnull=True).update(
            done_at=timezone.now(), late=submitted_on > entry.occurrence.deadline
        )
    progress_counts_refresh({entry.organization_id for entry in entries})


@transaction.atomic
def entry_approve(*, actor, entry, comment="", seen=None):
    _review(LedgerEntry, entry, actor=actor, status=ReviewStatus.APPROVED, comment=comment, seen=seen)
    entry.refresh_from_db()
    if entry.previous_id:
        LedgerEntry.objects.filter(pk=entry.previous_id).update(status=ReviewStatus.SUPERSEDED)
    _occurrences_mark_done([entry])
    return entry


@transaction.atomic
def entry_return(*, actor, entry, comment, seen=None):
    _review(LedgerEntry, entry, actor=actor, status=ReviewStatus.RETURNED, comment=comment, seen=seen)
    notify(
        users=[entry.submitted_by],
        title=_("A ledger entry was returned: %(item)s") % {"item": entry.occurrence},
        body=comment,
        url=reverse("checklists:entry", args=[entry.pk]),
    )
    return entry


def _review(model, record, *, actor, status, comment, seen=None):
    """Approve or return something waiting for review, once: a conditional update, so two
    reviewers at the same moment cannot both act on it, nobody reviews what they submitted,
    and (with `seen`, the submission time the reviewer read) a record changed meanwhile is
    not approved unread."""
    comment = comment.strip()
    if status == ReviewStatus.RETURNED and not comment:
        raise ValidationError({"comment": _("Say what needs correcting.")})
    condition = Q(pk=record.pk, status=ReviewStatus.SUBMITTED) & ~Q(submitted_by=actor)
    if seen is not None:
        condition &= Q(submitted_at=seen)
    changed = model.objects.filter(condition).update(
        status=status, reviewed_by=actor, reviewed_at=timezone.now(), review_comment=comment
    )
    fresh = model.objects.get(pk=record.pk)
    if not changed:
        if fresh.submitted_by_id == actor.pk:
            raise ValidationError(_("You cannot review what you submitted yourself."))
        if fresh.status != ReviewStatus.SUBMITTED:
            raise ValidationError(_("This record is not waiting for review any more."))
        raise ValidationError(_("The record was changed while you were reading it; read it again."))
    verb = _("approved") if status == ReviewStatus.APPROVED else _("returned")
    model.history.bulk_history_create([fresh], update=True, default_user=actor, default_change_reason=verb)


# --- meeting records -----------------------------------------------------------------------


def _meeting_entries_sync(meeting, *, actor):
    """The entries a meeting owns: one per open occurrence of an item its kind fulfils whose
    period holds the meeting date. No second entry is asked of anyone (DESIGN.md 3)."""
    occurrences = Occurrence.objects.filter(
        item__checklist__organization=meeting.organization,
        item__meeting_kind=meeting.kind,
        period_start__lte=meeting.date,
        deadline__gte=meeting.date,
        done_at__isnull=True,
    ).exclude(entries__meeting=meeting)
    entries = [
        LedgerEntry(
            occurrence=occurrence,
            organization=meeting.organization,
            meeting=meeting,
            date=meeting.date,
            content=f"{meeting.get_kind_display()}：{meeting.topic}",
            submitted_by=meeting.submitted_by,
            first_submitted_at=meeting.first_submitted_at,
            submitted_at=meeting.submitted_at,
        )
        for occurrence in occurrences
    ]
    created = bulk_create_with_history(
        entries, LedgerEntry, default_user=actor, default_change_reason=_("meeting recorded")
    )
    if meeting.status == ReviewStatus.APPROVED and created:
        LedgerEntry.objects.filter(pk__in=[entry.pk for entry in created]).update(
            reviewed_by=meeting.reviewed_by, reviewed_at=meeting.reviewed_at
        )
        _occurrences_mark_done(created)
    meeting.entries.update(
        date=meeting.date,
        status=meeting.status,
        submitted_at=meeting.submitted_at,
        content=f"{meeting.get_kind_display()}：{meeting.topic}",
    )


def _meetings_link(organizations, year, *, actor):
    """Let the meetings already recorded (and not returned) by these organizations in the year
    fulfil occurrences that arrived after them (a checklist issued or an item added later)."""
    meetings = MeetingRecord.objects.filter(organization__in=organizations, date__year=year).exclude(
        status=ReviewStatus.RETURNED
    )
    for meeting in meetings.filter(
        Exists(
            Occurrence.objects.filter(
                item__checklist__organization=OuterRef("organization"),
                item__meeting_kind=OuterRef("kind"),
                period_start__lte=OuterRef("date"),
                deadline__gte=OuterRef("date"),
                done_at__isnull=True,
            )
        )
    ):
        _meeting_entries_sync(meeting, actor=actor)


def _absences_check(expected, present, absences):
    if present > expected:
        raise ValidationError({"present": _("More attended than were expected.")})
    if len(absences) > expected - present:
        raise ValidationError({"absences": _("More absences are listed than people were absent.")})


@transaction.atomic
def meeting_submit(
    *, actor, organization, kind, date, topic, expected, present, absences, minutes, uploads=(), attachment_ids=()
):
    work_date_check(date)
    _absences_check(expected, present, absences)
    meeting = MeetingRecord(
        organization=organization,
        kind=kind,
        date=date,
        topic=topic,
        expected=expected,
        present=present,
        absences=absences,
        minutes=minutes,
        **_reviewed_fields(actor),
    )
    _save(meeting, actor=actor, reason=_("submitted"))
    meeting.attachments.set(
        attachments_for(actor=actor, organization=organization, uploads=uploads, existing_ids=attachment_ids)
    )
    _meeting_entries_sync(meeting, actor=actor)
    return meeting


@transaction.atomic
def meeting_resubmit(*, actor, meeting, uploads=(), attachment_ids=(), **fields):
    meeting = MeetingRecord.objects.select_for_update().get(pk=meeting.pk)
    if meeting.status not in {ReviewStatus.SUBMITTED, ReviewStatus.RETURNED}:
        raise ValidationError(_("Only a record waiting for review or returned can be corrected."))
    work_date_check(fields.get("date"))
    _absences_check(fields["expected"], fields["present"], fields["absences"])
    for name, value in fields.items():
        setattr(meeting, name, value)
    meeting.status, meeting.submitted_at, meeting.submitted_by = ReviewStatus.SUBMITTED, timezone.now(), actor
    _save(meeting, actor=actor, reason=_("resubmitted"))
    meeting.attachments.set(
        attachments_for(actor=actor, organization=meeting.organization, uploads=uploads, existing_ids=attachment_ids)
    )
    # A changed date may fall in another period: drop the entries of periods it left.
    meeting.entries.exclude(
        occurrence__period_start__lte=meeting.date,
        occurrence__deadline__gte=meeting.date,
        occurrence__item__meeting_kind=meeting.kind,
    ).delete()
    _meeting_entries_sync(meeting, actor=actor)
    return meeting


@transaction.atomic
def meeting_approve(*, actor, meeting, comment="", seen=None):
    _review(MeetingRecord, meeting, actor=actor, status=ReviewStatus.APPROVED, comment=comment, seen=seen)
    entries = list(meeting.entries.select_related("occurrence"))
    meeting.entries.update(
        status=ReviewStatus.APPROVED, reviewed_by=actor, reviewed_at=timezone.now(), review_comment=comment
    )
    LedgerEntry.history.bulk_history_create(
        list(meeting.entries.all()), update=True, default_user=actor, default_change_reason=_("approved")
    )
    _occurrences_mark_done(entries)
    return meeting


@transaction.atomic
def meeting_return(*, actor, meeting, comment, seen=None):
    _review(MeetingRecord, meeting, actor=actor, status=ReviewStatus.RETURNED, comment=comment, seen=seen)
    meeting.entries.update(
        status=ReviewStatus.RETURNED, reviewed_by=actor, reviewed_at=timezone.now(), review_comment=comment
    )
    LedgerEntry.history.bulk_history_create(
        list(meeting.entries.all()), update=True, default_user=actor, default_change_reason=_("returned")
    )
    notify(
        users=[meeting.submitted_by],
        title=_("A meeting record was returned: %(meeting)s") % {"meeting": meeting},
        body=comment,
        url=reverse("checklists:meeting", args=[meeting.pk]),
    )
    return meeting


# --- secretary's duty record ---------------------------------------------------------------


def _month_open(organization, day):
    """Records of a month sent up (waiting or approved) are locked; a returned month reopens."""
    return not DutyReport.objects.filter(
        organization=organization,
        month=day.replace(day=1),
        status__in=[ReviewStatus.SUBMITTED, ReviewStatus.APPROVED],
    ).exists()


@transaction.atomic
def duty_record_add(*, actor, organization, date, kind, content):
    work_date_check(date)
    # The organization's row serializes adding a record and sending its month up.
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    if not _month_open(organization, date):
        raise ValidationError({"date": _("That month has been sent up already.")})
    return _save(
        DutyRecord(organization=organization, author=actor, date=date, kind=kind, content=content),
        actor=actor,
        reason=_("recorded"),
    )


def month_sendable_from(month):
    """A month's duty record is sent up from the month's last day on (DESIGN.md 3): sent
    earlier, it would lock the rest of the month."""
    return (month.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


@transaction.atomic
def duty_report_submit(*, actor, organization, month):
    """Send a month's records up for review (again, after a return), from its last day on."""
    month = month.replace(day=1)
    sendable = month_sendable_from(month)
    if timezone.localdate() < sendable:
        raise ValidationError(
            _("%(month)s can be sent up from its last day on, %(day)s.")
            % {"month": month.strftime("%Y-%m"), "day": sendable.isoformat()}
        )
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    records = DutyRecord.objects.filter(organization=organization, date__year=month.year, date__month=month.month)
    if not records.exists():
        raise ValidationError(_("There is nothing recorded for that month."))
    report = DutyReport.objects.select_for_update().filter(organization=organization, month=month).first()
    if report is None:
        report = DutyReport(organization=organization, month=month, **_reviewed_fields(actor))
    elif report.status == ReviewStatus.RETURNED:
        report.status, report.submitted_at, report.submitted_by = ReviewStatus.SUBMITTED, timezone.now(), actor
    else:
        raise ValidationError(_("That month has been sent up already."))
    _save(report, actor=actor, reason=_("sent up"))
    records.update(report=report)
    return report


@transaction.atomic
def duty_report_approve(*, actor, report, comment="", seen=None):
    _review(DutyReport, report, actor=actor, status=ReviewStatus.APPROVED, comment=comment, seen=seen)
    return report


@transaction.atomic
def duty_report_return(*, actor, report, comment, seen=None):
    _review(DutyReport, report, actor=actor, status=ReviewStatus.RETURNED, comment=comment, seen=seen)
    notify(
        users=[report.submitted_by],
        title=_("Your duty record for %(month)s was returned") % {"month": report.month.strftime("%Y-%m")},
        body=comment,
        url=reverse("checklists:duty"),
    )
    return report


# --- notifications -------------------------------------------------------------------------


def _notify_organizations(organizations, *, roles, title, url, body=""):
    users = {
        assignment.user
        for assignment in RoleAssignment.objects.filter(
            organization__in=organizations, role__in=roles, user__is_active=True
        ).select_related("user")
    }
    notify(users=users, title=title, url=url, body=body)


# --- scheduled jobs ------------------------------------------------------------------------


def reminders_send(*, today=None):
    """Tell the owners of occurrences (the organization's secretary and ledger clerks) what is
    due within REMINDER_DAYS and what is overdue: one notification per checklist and deadline,
    each sent once (its key), so the daily job can run twice without repeating itself."""
    today = today or timezone.localdate()
    soon = today + timedelta(days=settings.REMINDER_DAYS)
    undone = Occurrence.objects.filter(
        done_at__isnull=True, item__checklist__template__year__in=[today.year - 1, today.year]
    )
    groups = [
        (
            "due",
            undone.filter(deadline__gte=today, deadline__lte=soon),
            _("%(count)s checklist tasks of %(organization)s are due by %(deadline)s"),
        ),
        (
            "overdue",
            undone.filter(deadline__lt=today, deadline__gte=today - timedelta(days=31)),
            _("%(count)s checklist tasks of %(organization)s are overdue (deadline %(deadline)s)"),
        ),
    ]
    notifications = []
    for kind, occurrences, title in groups:
        rows = (
            RoleAssignment.objects.filter(
                role__in=[Role.SECRETARY, Role.CLERK],
                user__is_active=True,
                organization__checklists__items__occurrences__in=occurrences,
            )
            .values(
                "user_id",
                "organization__checklists__pk",
                "organization__name",
                "organization__checklists__items__occurrences__deadline",
            )
            .annotate(count=Count("organization__checklists__items__occurrences", distinct=True))
        )
        for row in rows:
            checklist_id = row["organization__checklists__pk"]
            deadline = row["organization__checklists__items__occurrences__deadline"]
            notifications.append(
                Notification(
                    user_id=row["user_id"],
                    key=f"{kind}:{checklist_id}:{deadline:%Y%m%d}",
                    title=title
                    % {
                        "count": row["count"],
                        "organization": row["organization__name"],
                        "deadline": deadline.isoformat(),
                    },
                    url=reverse("checklists:checklist", args=[checklist_id]),
                )
            )
    notify_many(notifications)
    return len(notifications)


def _progress_counted(organization_ids=None):
    """The grouped query ProgressCount holds: occurrences by organization, year and deadline."""
    occurrences = Occurrence.objects.all()
    if organization_ids is not None:
        occurrences = occurrences.filter(item__checklist__organization_id__in=organization_ids)
    return (
        occurrences.values(
            organization=F("item__checklist__organization_id"),
            year=F("item__checklist__template__year"),
            day=F("deadline"),
        )
        .annotate(
            occurrence_count=Count("pk"), done_count=Count("done_at"), late_count=Count("pk", filter=Q(late=True))
        )
        .order_by()
    )


PROGRESS_COLUMNS = ["organization", "year", "deadline", "occurrence_count", "done_count", "late_count"]


def progress_counts_refresh(organization_ids=None):
    """Recount the ProgressCount rows of these organizations (ids or a queryset of ids; None:
    all) from their occurrences, in the caller's transaction: one DELETE and one INSERT …
    SELECT grouped by organization, year and deadline, whatever the number of occurrences.
    Every service that creates, removes or completes occurrences calls it for the
    organizations it touched. Returns the number of rows written."""
    organizations = Organization.objects.all()
    if organization_ids is not None:
        organizations = organizations.filter(pk__in=organization_ids)
    # Two writes recounting one organization take turns (its row is locked until commit), so
    # that the second deletes what the first inserted and counts what the first changed.
    locked = list(organizations.select_for_update().order_by("pk").values_list("pk", flat=True))
    if not locked:
        return 0
    if organization_ids is not None:
        organization_ids = locked
    stale = ProgressCount.objects.all()
    if organization_ids is not None:
        stale = stale.filter(organization_id__in=organization_ids)
    stale._raw_delete(stale.db)  # derived rows: no signals, no history, nothing cascades
    select, params = _progress_counted(organization_ids).query.sql_with_params()
    table, columns = quoted(ProgressCount, *PROGRESS_COLUMNS, "counted_at")
    counted_at = ProgressCount._meta.get_field("counted_at").get_db_prep_save(timezone.now(), connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT counted.*, %s FROM ({select}) counted",
            [counted_at, *params],
        )
        return cursor.rowcount


@transaction.atomic
def progress_counts_recount():
    """The daily job: recount every organization's progress rows from the occurrences
    (set-based) and return (rows, wrong): wrong is how many (organization, year, deadline)
    rows were missing, extra or off before, which should be 0 — more means a write path did
    not recount what it changed, and it is logged."""
    select, params = _progress_counted().query.sql_with_params()
    quote = connection.ops.quote_name
    table, columns = quoted(ProgressCount, *PROGRESS_COLUMNS)
    names = [quote(name) for name in ("organization", "year", "day", "occurrence_count", "done_count", "late_count")]
    aliased = ", ".join(f"{column} AS {name}" for column, name in zip(columns, names, strict=True))
    kept = f"SELECT {aliased} FROM {table}"
    key = ", ".join(names[:3])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT {key} FROM ({kept} EXCEPT {select}) stale "
            f"UNION SELECT {key} FROM ({select} EXCEPT {kept}) missing) wrong",
            [*params, *params],
        )
        wrong = cursor.fetchone()[0]
    rows = progress_counts_refresh()
    if wrong:
        logger.warning("Progress counts: %s rows were wrong and have been recounted.", wrong)
    return rows, wrong


def progress_snapshot_take(*, month=None):
    """Keep each organization's progress (its whole subtree's) for a month, as of the end of the
    month's last day: due = deadlines within the year up to then, done = done by then, overdue
    = the rest. By default the month just ended (the job runs on the 1st). Safe to run twice.

    Set-based: one grouped query counts each organization's own occurrences; the counts are
    then added up the tree along each path (every organization's ancestors are the prefixes
    of its path), so the cost follows the number of organizations with data, not children ×
    the whole table."""
    if month is None:
        month = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    month = month.replace(day=1)
    end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    end_of_day = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min))
    due = Q(deadline__lte=end)
    own = (
        Occurrence.objects.filter(item__checklist__template__year=month.year)
        .values("item__checklist__organization__path")
        .annotate(due=Count("pk", filter=due), done=Count("pk", filter=due & Q(done_at__lt=end_of_day)))
        .order_by()
    )
    totals = {}
    for row in own:
        path = row["item__checklist__organization__path"]
        prefixes = [path[: index + 1] for index, char in enumerate(path) if char == "/"][1:]
        for prefix in prefixes:
            total = totals.setdefault(prefix, [0, 0])
            total[0] += row["due"]
            total[1] += row["done"]
    ids = dict(Organization.objects.filter(path__in=list(totals)).values_list("path", "pk"))
    snapshots = [
        ProgressSnapshot(organization_id=ids[path], month=month, due=due, done=done, overdue=due - done)
        for path, (due, done) in totals.items()
        if path in ids
    ]
    ProgressSnapshot.objects.bulk_create(
        snapshots,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["organization", "month"],
        update_fields=["due", "done", "overdue"],
    )
    return len(snapshots)
