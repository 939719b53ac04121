"""Demo data for checklists: 吴川市's committee and branch lists for this year, issued to its
towns and villages, claimed, with a year of ledger entries, meetings and duty records in
varied states (late, overdue, returned, approved, waiting). Idempotent.

Past work is written with past timestamps, so it is bulk-created here (with its history
rows) rather than through the services, which stamp the present; the live part of the demo
(what is waiting for review today) goes through the services like any user's work."""

import random
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from simple_history.utils import bulk_create_with_history

from organizations.models import Organization, PartyType, Post, PostTitle, User

from . import services
from .demo_items import BRANCH_ITEMS, COMMITTEE_ITEMS
from .models import (
    Checklist,
    ChecklistTemplate,
    DutyKind,
    DutyRecord,
    LedgerEntry,
    MeetingKind,
    Occurrence,
    ReviewStatus,
)

COUNTY = "440883"
DEMO_TOWN = "440883001"  # 梅录街道: the demo users' town


def _aware(day, hour=10):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def build(stdout):
    county = Organization.objects.filter(code=COUNTY).first()
    if county is None or ChecklistTemplate.objects.filter(owner=county).exists():
        stdout.write("checklists: already built")
        return []
    rng = random.Random(2017)
    today = timezone.localdate()
    year = today.year
    staff = User.objects.get(username="wc_staff")
    clerk = User.objects.get(username="ml_clerk")
    templates = [
        _template(
            staff,
            county,
            year,
            f"{year}年乡镇（街道）党（工）委党建责任清单",
            [PartyType.COMMITTEE, PartyType.WORKING_COMMITTEE],
            COMMITTEE_ITEMS,
        ),
        _template(
            staff,
            county,
            year,
            f"{year}年村（社区）党组织党建责任清单",
            [PartyType.GENERAL_BRANCH, PartyType.BRANCH, PartyType.JOINT_BRANCH],
            BRANCH_ITEMS,
        ),
    ]
    towns = Organization.objects.filter(parent=county, kind__in=["town", "township", "subdistrict"])
    for template in templates:
        for town in towns:
            services.checklist_issue(actor=staff, template=template, root=town, claim_deadline=date(year, 2, 28))
    checklists = list(Checklist.objects.filter(template__in=templates).select_related("organization"))
    _claim(checklists, rng, year)
    _past_work(checklists, rng, today, clerk)
    with transaction.atomic():
        services.progress_counts_refresh()  # _past_work marks past periods done in bulk
    _live_work(today, clerk)
    _duty_records(rng, today)
    stdout.write(f"checklists: {len(checklists)} issued, {LedgerEntry.objects.count()} ledger entries")
    return []


def _template(actor, owner, year, name, types, items):
    template = services.template_create(actor=actor, owner=owner, year=year, name=name, target_types=types)
    for position, item in enumerate(items, start=1):
        month, day = map(int, item["deadline"].split("-")) if item["deadline"] else (None, None)
        services.template_item_create(
            actor=actor,
            template=template,
            position=position,
            code=item["code"],
            category=item["category"],
            title=item["title"],
            requirement=item["requirement"],
            evidence=item["evidence"],
            frequency=item["frequency"],
            deadline=date(year, month, day) if month else None,
            score=item["score"],
            meeting_kind=item["meeting_kind"],
        )
    return template


def _secretary_user(organization):
    post = (
        Post.objects.filter(organization=organization, title=PostTitle.SECRETARY).select_related("person__user").first()
    )
    return post.person.user if post and post.person.user else None


def _archive_user():
    """The account past paper records are booked to (it cannot log in)."""
    archive, _created = User.objects.get_or_create(
        username="ledger_archive", defaults={"full_name": "历史台账导入", "is_active": False}
    )
    return archive


def _claim(checklists, rng, year):
    """Most organizations claimed in February, signed by their secretary; a few did not, to show
    unclaimed checklists past their deadline. The demo village's stays for its user to claim.
    Secretaries without an account signed on paper, entered by the archive account."""
    archive = _archive_user()
    for checklist in checklists:
        if checklist.organization.code == "440883001002" or rng.random() < 0.08:
            continue
        post = (
            Post.objects.filter(organization=checklist.organization, title=PostTitle.SECRETARY)
            .select_related("person__user")
            .first()
        )
        user = post.person.user if post else None
        claimed = services.checklist_claim(
            actor=user or archive,
            checklist=checklist,
            signature=post.person.name if post else checklist.organization.name,
            on_paper=user is None,
        )
        Checklist.objects.filter(pk=claimed.pk).update(claimed_at=_aware(date(year, 2, rng.randint(10, 27))))


def _past_work(checklists, rng, today, reviewer):
    """Occurrences already past their deadline: most done (a few late), some overdue. Entries
    of organizations without a demo account are booked to an archive account (past ledgers
    brought into the platform)."""
    archive = _archive_user()
    occurrences = list(
        Occurrence.objects.filter(item__checklist__in=checklists, deadline__lt=today).select_related(
            "item__checklist__organization"
        )
    )
    entries, done, late = [], [], []
    for occurrence in occurrences:
        roll = rng.random()
        if roll < 0.07:
            continue  # overdue: nothing was done
        organization = occurrence.item.checklist.organization
        submitted_on = occurrence.deadline - timedelta(days=rng.randint(0, 20))
        is_late = roll > 0.93
        if is_late:
            submitted_on = occurrence.deadline + timedelta(days=rng.randint(2, 15))
        submitter = _secretary_user(organization) or archive
        entries.append(
            LedgerEntry(
                occurrence=occurrence,
                organization=organization,
                date=min(submitted_on, occurrence.deadline),
                content=f"按要求完成“{occurrence.item.title}”，{occurrence.item.evidence or '记录'}已归档。",
                status=ReviewStatus.APPROVED,
                submitted_by=submitter,
                first_submitted_at=_aware(submitted_on),
                submitted_at=_aware(submitted_on),
                reviewed_by=reviewer,
                reviewed_at=_aware(submitted_on + timedelta(days=2), 16),
            )
        )
        (late if is_late else done).append(occurrence.pk)
    bulk_create_with_history(entries, LedgerEntry, batch_size=1000, default_change_reason=gettext("approved"))
    for ids, is_late in [(done, False), (late, True)]:
        for start in range(0, len(ids), 5000):
            Occurrence.objects.filter(pk__in=ids[start : start + 5000]).update(done_at=timezone.now(), late=is_late)


def _live_work(today, clerk):
    """What the demo users find today in 梅录街道: meetings and entries waiting for review,
    a returned entry, and this month's 支委会 recorded."""
    village = Organization.objects.get(code="440883001002")
    secretary = _secretary_user(village)
    meeting = services.meeting_submit(
        actor=secretary,
        organization=village,
        kind=MeetingKind.COMMITTEE_MEETING,
        date=today - timedelta(days=3),
        topic="研究本月党员发展和困难群众帮扶工作",
        expected=5,
        present=4,
        absences=[{"name": "陈海", "reason": "外出务工"}],
        minutes="1.传达学习上级会议精神；2.研究确定入党积极分子培养人选；3.研究困难群众帮扶名单。",
    )
    open_occurrences = (
        Occurrence.objects.filter(
            item__checklist__organization=village,
            done_at__isnull=True,
            deadline__gte=today,
            entries__isnull=True,
        )
        .exclude(item__meeting_kind__in=[MeetingKind.COMMITTEE_MEETING])
        .select_related("item")
    )
    for index, occurrence in enumerate(open_occurrences.order_by("deadline", "pk")[:5]):
        entry = services.entry_submit(
            actor=secretary,
            occurrence=occurrence,
            date=today,
            content=f"{occurrence.item.title}：已按要求落实，相关记录已整理归档。",
            # One entry comes with evidence, so that a reviewer sees thumbnails and a PDF
            # (issue 11 point 17) and the attachment picker has files to offer (point 20).
            uploads=_evidence() if index == 1 else (),
        )
        if index == 0:
            services.entry_return(actor=clerk, entry=entry, comment="请补充会议签到表或简要文字记录。")
    return meeting


def _evidence():
    """A photo of the meeting and a scanned sign-in sheet, made here (nothing is downloaded)."""
    from io import BytesIO

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image, ImageDraw

    photo = Image.new("RGB", (1200, 900), (236, 226, 208))
    draw = ImageDraw.Draw(photo)
    draw.rectangle((80, 120, 1120, 300), fill=(192, 57, 43))  # the banner over the meeting room
    for seat in range(8):
        draw.ellipse((120 + seat * 125, 520, 200 + seat * 125, 600), fill=(60, 60, 70))
    jpeg = BytesIO()
    photo.save(jpeg, "JPEG", quality=80)
    # A one-page PDF with nothing active in it: what a scanner's "save as PDF" gives.
    pdf = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return [
        SimpleUploadedFile("党小组会现场.jpg", jpeg.getvalue(), content_type="image/jpeg"),
        SimpleUploadedFile("党小组会签到表.pdf", pdf, content_type="application/pdf"),
    ]


def _duty_records(rng, today):
    """Village secretaries' duty records for the months so far: earlier months approved, one
    returned, last month waiting for review."""
    kinds = list(DutyKind)
    texts = {
        DutyKind.CHAIRED_MEETING: "主持召开支委会，研究部署本月党建重点工作。",
        DutyKind.GAVE_LECTURE: "为全体党员讲授专题党课。",
        DutyKind.CONTACT_VISIT: "到联系点走访党员群众，了解诉求并协调解决。",
        DutyKind.DUAL_LIFE: "以普通党员身份参加所在党小组组织生活。",
        DutyKind.HEART_TALK: "与支部委员开展谈心谈话，交流思想和工作。",
        DutyKind.OTHER: "督促落实村务党务公开。",
    }
    reviewer = User.objects.get(username="ml_clerk")
    villages = Organization.objects.filter(parent__code=DEMO_TOWN).filter(Q(kind="village") | Q(kind="community"))
    for village in villages:
        author = _secretary_user(village)
        if author is None:  # duty records are the secretary's own: only secretaries with accounts
            continue
        for month in range(1, today.month + 1):
            days = sorted(rng.sample(range(1, 28), 3))
            DutyRecord.objects.bulk_create(
                [
                    DutyRecord(
                        organization=village,
                        author=author,
                        date=date(today.year, month, day),
                        kind=(kind := rng.choice(kinds)),
                        content=texts[kind],
                    )
                    for day in days
                    if date(today.year, month, day) <= today
                ]
            )
            if month == today.month:
                continue
            report = services.duty_report_submit(actor=author, organization=village, month=date(today.year, month, 1))
            if month == today.month - 1:
                continue  # last month: waiting for review
            if month == today.month - 2 and village.code.endswith("002"):
                services.duty_report_return(actor=reviewer, report=report, comment="请补充谈心谈话的对象和主要内容。")
            else:
                services.duty_report_approve(actor=reviewer, report=report)
