import io
from datetime import date, datetime, time

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from checklists import services
from checklists.models import LedgerEntry, Occurrence, ReviewStatus

from .conftest import YEAR

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * 200


def _xlsx():
    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


def _occurrence(checklist, code, index=1):
    return Occurrence.objects.get(item__checklist=checklist, item__code=code, index=index)


def _at(day):
    return timezone.make_aware(datetime.combine(day, time(10)))


def test_secretary_submits_a_ledger_entry_with_a_photo_from_the_phone_form(issued, people, client):
    occurrence = _occurrence(issued, "Z04")
    client.force_login(people.secretary)
    response = client.post(
        reverse("checklists:entry_create", args=[occurrence.pk]),
        {
            "date": f"{YEAR}-03-15",
            "content": "召开换届准备会",
            "files": [SimpleUploadedFile("现场.jpg", JPEG)],
        },
    )
    assert response.status_code == 302
    entry = LedgerEntry.objects.get()
    assert (entry.status, entry.organization, entry.submitted_by) == (
        ReviewStatus.SUBMITTED,
        issued.organization,
        people.secretary,
    )
    attachment = entry.attachments.get()
    assert (attachment.original_name, attachment.content_type) == ("现场.jpg", "image/jpeg")
    assert "现场" not in attachment.file.name  # stored under a random name


def test_photos_are_never_required(issued, people):
    entry = services.entry_submit(
        actor=people.secretary,
        occurrence=_occurrence(issued, "Z04"),
        date=date(YEAR, 3, 1),
        content="签到表已存档，会议纪要如下……",
    )
    assert entry.attachments.count() == 0


@pytest.mark.parametrize(
    ("name", "content", "accepted"),
    [
        ("a.jpg", JPEG, True),
        ("a.png", PNG, True),
        ("a.pdf", PDF, True),
        ("a.xlsx", _xlsx(), True),
        ("fake.jpg", b"MZ\x90\x00 this is a program", False),
        ("a.txt", b"plain text", False),
    ],
)
def test_attachment_types_are_checked_by_content(issued, people, name, content, accepted):
    upload = SimpleUploadedFile(name, content)
    submit = lambda: services.entry_submit(  # noqa: E731
        actor=people.secretary,
        occurrence=_occurrence(issued, "Z04"),
        date=date(YEAR, 3, 1),
        content="x",
        uploads=[upload],
    )
    if accepted:
        assert submit().attachments.count() == 1
    else:
        with pytest.raises(ValidationError, match="类型不受支持"):
            submit()
        assert not LedgerEntry.objects.exists()


def test_size_and_count_limits(issued, people, settings):
    settings.EVIDENCE_MAX_FILE_BYTES = 100
    with pytest.raises(ValidationError):
        services.entry_submit(
            actor=people.secretary,
            occurrence=_occurrence(issued, "Z04"),
            date=date(YEAR, 3, 1),
            content="x",
            uploads=[SimpleUploadedFile("big.jpg", JPEG)],
        )
    settings.EVIDENCE_MAX_FILE_BYTES = 10**6
    settings.EVIDENCE_MAX_FILES = 1
    with pytest.raises(ValidationError):
        services.entry_submit(
            actor=people.secretary,
            occurrence=_occurrence(issued, "Z04"),
            date=date(YEAR, 3, 1),
            content="x",
            uploads=[SimpleUploadedFile("1.jpg", JPEG), SimpleUploadedFile("2.png", PNG)],
        )
    assert not LedgerEntry.objects.exists()


def test_a_bad_file_keeps_what_was_typed(issued, people, client):
    client.force_login(people.secretary)
    response = client.post(
        reverse("checklists:entry_create", args=[_occurrence(issued, "Z04").pk]),
        {
            "date": f"{YEAR}-03-15",
            "content": "我写的内容",
            "files": [SimpleUploadedFile("x.exe", b"MZ\x90\x00")],
        },
    )
    assert response.status_code == 200
    assert "我写的内容" in response.text
    assert not LedgerEntry.objects.exists()


def test_an_attachment_can_serve_several_entries_of_its_organization(issued, people):
    first = services.entry_submit(
        actor=people.secretary,
        occurrence=_occurrence(issued, "Z04"),
        date=date(YEAR, 3, 1),
        content="x",
        uploads=[SimpleUploadedFile("签到表.pdf", PDF)],
    )
    attachment = first.attachments.get()
    second = services.entry_submit(
        actor=people.secretary,
        occurrence=_occurrence(issued, "Z02"),
        date=date(YEAR, 3, 1),
        content="y",
        attachment_ids=[attachment.pk],
    )
    assert list(second.attachments.all()) == [attachment]


def test_attachments_are_served_only_inside_the_area_as_downloads(issued, people, client):
    entry = services.entry_submit(
        actor=people.secretary,
        occurrence=_occurrence(issued, "Z04"),
        date=date(YEAR, 3, 1),
        content="x",
        uploads=[SimpleUploadedFile("纪要.pdf", PDF)],
    )
    url = reverse("checklists:attachment", args=[entry.attachments.get().pk])
    client.force_login(people.town_clerk)
    response = client.get(url)
    assert response.headers["Content-Disposition"].startswith("attachment")
    client.force_login(people.neighbour)
    assert client.get(url).status_code == 404


def test_town_clerk_approves_and_the_occurrence_is_done_on_time(issued, people, client):
    occurrence = _occurrence(issued, "Z04")
    entry = services.entry_submit(actor=people.secretary, occurrence=occurrence, date=date(YEAR, 3, 1), content="x")
    LedgerEntry.objects.filter(pk=entry.pk).update(first_submitted_at=_at(date(YEAR, 6, 30)))
    client.force_login(people.town_clerk)
    assert "Z04 换届准备" in client.get(reverse("checklists:review")).text
    client.post(reverse("checklists:entry", args=[entry.pk]), {"action": "approve", "comment": ""})
    entry.refresh_from_db()
    occurrence.refresh_from_db()
    assert (entry.status, entry.reviewed_by) == (ReviewStatus.APPROVED, people.town_clerk)
    assert occurrence.done_at is not None
    assert not occurrence.late


def test_an_entry_first_submitted_after_the_deadline_is_late_for_good(issued, people):
    occurrence = _occurrence(issued, "Z04")
    entry = services.entry_submit(actor=people.secretary, occurrence=occurrence, date=date(YEAR, 6, 30), content="x")
    LedgerEntry.objects.filter(pk=entry.pk).update(first_submitted_at=_at(date(YEAR, 7, 1)))
    services.entry_return(actor=people.town_clerk, entry=entry, comment="补签到表")
    # corrected and resubmitted later still counts from the first submission
    services.entry_resubmit(actor=people.secretary, entry=entry, date=date(YEAR, 6, 30), content="已补")
    entry.refresh_from_db()
    assert entry.first_submitted_at == _at(date(YEAR, 7, 1))
    services.entry_approve(actor=people.town_clerk, entry=entry)
    occurrence.refresh_from_db()
    assert occurrence.late
    assert occurrence.done_at is not None


def test_return_needs_a_comment_and_notifies_the_submitter(issued, people, client):
    entry = services.entry_submit(
        actor=people.secretary, occurrence=_occurrence(issued, "Z04"), date=date(YEAR, 3, 1), content="x"
    )
    client.force_login(people.town_clerk)
    response = client.post(reverse("checklists:entry", args=[entry.pk]), {"action": "return", "comment": ""})
    assert response.status_code == 200
    entry.refresh_from_db()
    assert entry.status == ReviewStatus.SUBMITTED
    client.post(reverse("checklists:entry", args=[entry.pk]), {"action": "return", "comment": "请补充签到表"})
    entry.refresh_from_db()
    assert (entry.status, entry.review_comment) == (ReviewStatus.RETURNED, "请补充签到表")
    assert people.secretary.notifications.get().body == "请补充签到表"


@pytest.mark.parametrize("who", ["secretary", "neighbour"])
def test_only_staff_or_clerks_above_review(issued, people, client, who):
    entry = services.entry_submit(
        actor=people.secretary, occurrence=_occurrence(issued, "Z04"), date=date(YEAR, 3, 1), content="x"
    )
    client.force_login(getattr(people, who))
    response = client.post(reverse("checklists:entry", args=[entry.pk]), {"action": "approve"})
    assert response.status_code in {403, 404}
    entry.refresh_from_db()
    assert entry.status == ReviewStatus.SUBMITTED


def test_an_approved_entry_is_locked_and_a_change_is_a_new_version(issued, people):
    occurrence = _occurrence(issued, "Z04")
    entry = services.entry_submit(actor=people.secretary, occurrence=occurrence, date=date(YEAR, 3, 1), content="v1")
    services.entry_approve(actor=people.town_clerk, entry=entry)
    with pytest.raises(ValidationError):
        services.entry_resubmit(actor=people.secretary, entry=entry, date=date(YEAR, 3, 1), content="悄悄改")
    with pytest.raises(ValidationError):
        services.entry_revise(actor=people.secretary, entry=entry, date=date(YEAR, 3, 1), content="v2", reason=" ")

    version = services.entry_revise(
        actor=people.secretary, entry=entry, date=date(YEAR, 3, 2), content="v2", reason="补充会议纪要"
    )

    entry.refresh_from_db()
    assert (entry.status, entry.content) == (ReviewStatus.APPROVED, "v1")  # still counts
    assert (version.version, version.previous, version.status) == (2, entry, ReviewStatus.SUBMITTED)
    services.entry_return(actor=people.town_clerk, entry=version, comment="不需要改")
    entry.refresh_from_db()
    assert entry.status == ReviewStatus.APPROVED
    services.entry_resubmit(actor=people.secretary, entry=version, date=date(YEAR, 3, 2), content="v2 改")
    services.entry_approve(actor=people.town_clerk, entry=version)
    entry.refresh_from_db()
    assert entry.status == ReviewStatus.SUPERSEDED
    occurrence.refresh_from_db()
    assert occurrence.done_at is not None


def test_nobody_reviews_their_own_entry(issued, people, user_with_role, world):
    from organizations.models import Role, RoleAssignment

    RoleAssignment.objects.create(user=people.town_clerk, organization=world.village_a1a, role=Role.CLERK)
    entry = services.entry_submit(
        actor=people.town_clerk, occurrence=_occurrence(issued, "Z04"), date=date(YEAR, 3, 1), content="x"
    )
    with pytest.raises(ValidationError):
        services.entry_approve(actor=people.town_clerk, entry=entry)


def test_entry_timeline_shows_who_did_what(issued, people, client):
    entry = services.entry_submit(
        actor=people.secretary, occurrence=_occurrence(issued, "Z04"), date=date(YEAR, 3, 1), content="x"
    )
    services.entry_return(actor=people.town_clerk, entry=entry, comment="补")
    client.force_login(people.secretary)
    timeline = client.get(reverse("checklists:entry", args=[entry.pk]) + "?part=log").context["timeline"]
    assert [(row["user"], row["reason"]) for row in timeline] == [
        (people.town_clerk, "已退回"),
        (people.secretary, "提交"),
    ]


def test_overdue_and_yellow_marks_are_derived(issued, people):
    from checklists.selectors import Mark, checklist_items

    items = {item.code: item for item in checklist_items(issued, today=date(YEAR, 6, 25))}
    assert items["Z04"].mark == Mark.YELLOW  # due 06-30, within 7 days
    assert items["Z01"].mark == Mark.RED  # January to May are overdue
    assert items["Z03"].mark == Mark.GREEN
    assert items["Z01"].status == "overdue"
    later = {item.code: item for item in checklist_items(issued, today=date(YEAR, 7, 1))}
    assert later["Z04"].status == "overdue"


def test_each_item_shows_its_frequency_in_the_users_words(issued, people, client):
    from django.utils import translation

    from checklists.selectors import checklist_items

    items = checklist_items(issued)
    assert len({item.frequency for item in items}) > 1
    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert [str(item.frequency_label) for item in items] == [item.get_frequency_display() for item in items]
    client.force_login(people.secretary)
    page = client.get(reverse("checklists:checklist", args=[issued.pk])).content.decode()
    with translation.override("zh-hans"):
        assert all(f"· {item.get_frequency_display()} ·" in page for item in items)


def test_a_checklists_timeline_loads_what_its_names_read_and_no_more(issued, people):
    """organizations.selectors._load_related follows each model's name_relations: the items'
    names are their code and title, the checklist's its organization and template, an entry's
    its occurrence and item. Every name is then written without a query, and nothing else is read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from checklists.selectors import checklist_timeline

    services.entry_submit(
        actor=people.secretary, occurrence=_occurrence(issued, "Z04"), date=date(YEAR, 3, 1), content="x"
    )
    with CaptureQueriesContext(connection) as loading:
        timeline = checklist_timeline(issued, limit=100)
    with CaptureQueriesContext(connection) as naming:
        names = {str(row["object"]) for row in timeline}
    assert len(naming) == 0
    assert f"{issued.organization.name_with_town} · {issued.template.name}" in names
    assert {f"{item.code} {item.title}" for item in issued.items.all()} <= names
    assert any(name.startswith("Z04 ") and name.endswith(f" · {YEAR}-03-01") for name in names)
    assert not [query for query in loading if 'FROM "checklists_templateitem"' in query["sql"]]


def test_a_timeline_takes_the_records_its_page_holds_and_reads_the_others(issued, people):
    """history_timeline(known=…): the checklist's organization and template, loaded with the
    checklist as the page loads it, are not read again; a checklist loaded alone gives nothing
    the names could use, and its timeline reads them as before, writing every name the same."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from checklists.models import Checklist
    from checklists.selectors import checklist_timeline

    def timeline(checklist):
        with CaptureQueriesContext(connection) as loading:
            entries = checklist_timeline(checklist, limit=100)
        with CaptureQueriesContext(connection) as naming:
            names = [str(entry["object"]) for entry in entries]
        assert len(naming) == 0
        reads = {
            table
            for table in ("checklisttemplate", "organizations_organization")
            if any(
                f'FROM "checklists_{table}"' in query["sql"] or f'FROM "{table}"' in query["sql"] for query in loading
            )
        }
        return names, reads

    as_the_page = Checklist.objects.select_related("template", "organization__parent__parent").get(pk=issued.pk)
    held_names, held_reads = timeline(as_the_page)
    alone_names, alone_reads = timeline(Checklist.objects.get(pk=issued.pk))
    assert held_names == alone_names
    assert f"{issued.organization.name_with_town} · {issued.template.name}" in held_names
    assert held_reads == set()
    assert alone_reads == {"checklisttemplate", "organizations_organization"}
