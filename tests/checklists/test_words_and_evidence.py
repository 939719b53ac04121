"""Words, names and evidence on the checklist pages (issue 11, points 12, 16, 17)."""

import io
from datetime import date, datetime, time, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from checklists import services
from checklists.models import LedgerEntry, Occurrence
from organizations.models import Organization, OrganizationKind, Role

from .conftest import YEAR

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * 200


def _jpeg():
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 900), "red").save(buffer, "JPEG")
    return buffer.getvalue()


def _occurrence(checklist, code, index=1):
    return Occurrence.objects.get(item__checklist=checklist, item__code=code, index=index)


@pytest.fixture
def same_names(world):
    """Both villages of town A1 are called 塘边村 and 高岭村 lies in both towns of county A."""
    Organization.objects.filter(pk__in=[world.village_a1a.pk, world.village_a2a.pk]).update(name="塘边村")
    Organization.objects.filter(pk=world.town_a1.pk).update(name="梅录街道")
    Organization.objects.filter(pk=world.town_a2.pk).update(name="塘㙍镇")


def test_the_review_queue_names_villages_with_their_town_and_shows_the_period(
    same_names, issued, people, client, user_with_role, world
):
    entry = services.entry_submit(
        actor=people.secretary, occurrence=_occurrence(issued, "Z02", 1), date=date(YEAR, 3, 1), content="x"
    )
    staff = user_with_role(Role.STAFF, world.county_a, full_name="县组织部干部")
    client.force_login(staff)
    page = client.get(reverse("checklists:review")).text
    assert "塘边村（梅录街道）" in page
    # The period and its deadline, not the date typed on the entry.
    assert entry.occurrence.period_label in page
    assert f"截止 {entry.occurrence.deadline:%Y-%m-%d}" in page


def test_the_checklist_timeline_names_the_village_with_its_town(same_names, issued, people, client):
    """The operation log too (tests/organizations/test_timeline_names.py has the others)."""
    client.force_login(people.staff)
    page = client.get(reverse("checklists:checklist", args=[issued.pk]) + "?part=log").text
    timeline = page[page.index('<ol class="timeline">') :]
    assert f"「塘边村（梅录街道） · {issued.template.name}」" in timeline


def test_the_claim_list_and_home_name_villages_with_their_town(same_names, issued, people, client):
    client.force_login(people.staff)
    page = client.get(reverse("checklists:template", args=[issued.template_id])).text
    assert "塘边村（梅录街道）" in page
    assert "塘边村（塘㙍镇）" in page
    client.force_login(people.secretary)
    assert "塘边村（梅录街道）" in client.get(reverse("checklists:home"), {"year": issued.template.year}).text


def test_the_owner_choices_are_indented_by_level_and_named_with_their_town(world, user_with_role, client):
    Organization.objects.filter(pk=world.town_a1.pk).update(name="梅录街道")
    client.force_login(user_with_role(Role.STAFF, world.county_a))
    page = client.get(reverse("checklists:template_create")).text
    assert f">{world.county_a.name}</option>" in page
    assert ">\u3000梅录街道</option>" in page
    assert ">\u3000\u3000组织A1a（梅录街道）</option>" in page


def test_the_entry_page_names_the_organization_period_deadline_and_lateness(same_names, issued, people, client):
    occurrence = _occurrence(issued, "Z04")
    entry = services.entry_submit(actor=people.secretary, occurrence=occurrence, date=date(YEAR, 6, 30), content="x")
    on_time = timezone.make_aware(datetime.combine(occurrence.deadline, time(10)))
    LedgerEntry.objects.filter(pk=entry.pk).update(first_submitted_at=on_time)
    client.force_login(people.town_clerk)
    page = client.get(reverse("checklists:entry", args=[entry.pk])).text
    assert "塘边村（梅录街道）" in page
    assert occurrence.period_label in page
    assert f"{occurrence.deadline:%Y-%m-%d}" in page
    assert "按时完成" in page
    assert "逾期提交" not in page
    LedgerEntry.objects.filter(pk=entry.pk).update(first_submitted_at=on_time + timedelta(days=1))
    assert "逾期提交" in client.get(reverse("checklists:entry", args=[entry.pk])).text
    assert "逾期提交" in client.get(reverse("checklists:review")).text


def test_photos_show_as_previews_and_pdfs_open_in_the_browser(issued, people, client):
    entry = services.entry_submit(
        actor=people.secretary,
        occurrence=_occurrence(issued, "Z04"),
        date=date(YEAR, 3, 1),
        content="x",
        uploads=[SimpleUploadedFile("photo.jpg", _jpeg()), SimpleUploadedFile("纪要.pdf", PDF)],
    )
    photo = entry.attachments.get(content_type="image/jpeg")
    pdf = entry.attachments.get(content_type="application/pdf")
    client.force_login(people.town_clerk)
    page = client.get(reverse("checklists:entry", args=[entry.pk])).text
    url = reverse("checklists:attachment", args=[photo.pk])
    assert f'<img src="{url}?thumb"' in page
    assert f'href="{url}?view"' in page

    preview = client.get(f"{url}?thumb")
    assert preview["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(b"".join(preview.streaming_content))) as image:
        assert max(image.size) <= 320
    full = client.get(f"{url}?view")
    assert full["Content-Disposition"].startswith("inline")
    assert full["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in full["Content-Security-Policy"]

    shown = client.get(reverse("checklists:attachment", args=[pdf.pk]) + "?view")
    assert shown["Content-Disposition"].startswith("inline")
    assert shown["Content-Type"] == "application/pdf"
    # Without ?view, and for any type a browser does not show safely, a download.
    assert client.get(url)["Content-Disposition"].startswith("attachment")


def test_a_preview_shows_its_own_photo_not_one_an_earlier_database_left(issued, people, client, settings, tmp_path):
    """Found in the walk (issue 11 point 17): previews were kept as thumbnails/<id>.jpg, so
    after the demo was rebuilt a reviewer saw another photo under the new photo's id."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 900), "blue").save(buffer, "JPEG")
    entry = services.entry_submit(
        actor=people.secretary,
        occurrence=_occurrence(issued, "Z04"),
        date=date(YEAR, 3, 1),
        content="x",
        uploads=[SimpleUploadedFile("photo.jpg", _jpeg())],  # red
    )
    photo = entry.attachments.get()
    # what an earlier database's attachment of the same id left behind: a blue picture
    for name in (f"thumbnails/{photo.pk}.jpg", f"thumbnails/{photo.pk}"):
        default_storage.save(name, ContentFile(buffer.getvalue()))
    client.force_login(people.town_clerk)
    preview = client.get(reverse("checklists:attachment", args=[photo.pk]) + "?thumb")
    with Image.open(io.BytesIO(b"".join(preview.streaming_content))) as image:
        red, _green, blue = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
    assert red > 200
    assert blue < 60


def test_office_files_are_never_shown_inline(issued, people, client):
    from openpyxl import Workbook

    buffer = io.BytesIO()
    Workbook().save(buffer)
    entry = services.entry_submit(
        actor=people.secretary,
        occurrence=_occurrence(issued, "Z04"),
        date=date(YEAR, 3, 1),
        content="x",
        uploads=[SimpleUploadedFile("台账.xlsx", buffer.getvalue())],
    )
    client.force_login(people.town_clerk)
    url = reverse("checklists:attachment", args=[entry.attachments.get().pk])
    assert client.get(f"{url}?view")["Content-Disposition"].startswith("attachment")
    assert client.get(f"{url}?thumb").status_code == 404


def test_breadcrumbs_do_not_link_above_the_users_area(world, people, client):
    client.force_login(people.staff)
    page = client.get(reverse("checklists:progress") + f"?org={world.town_a1.code}").text
    assert f"?org={world.city.code}" not in page
    assert world.city.name in page
    assert f"?org={world.county_a.code}&amp;year=" in page or f"?org={world.county_a.code}&year=" in page


def test_kinds_of_organizations_named_below_the_county(world):
    branch = Organization.objects.create(
        code="A1a-1",
        name="第一党小组",
        kind=OrganizationKind.NATURAL_VILLAGE,
        party_type="branch",
        parent=world.village_a1a,
        path=world.village_a1a.path + "A1a-1/",
    )
    assert branch.name_with_town == f"第一党小组（{world.town_a1.name}）"
    assert world.town_a1.name_with_town == world.town_a1.name


def test_the_operation_log_speaks_the_readers_language_whatever_the_writers(issued, people, client):
    from django.utils import translation

    entry = services.entry_submit(
        actor=people.secretary, occurrence=_occurrence(issued, "Z04"), date=date(YEAR, 3, 1), content="x"
    )
    with translation.override("en"):  # a job or a command that ran without the users' language
        services.entry_approve(actor=people.town_clerk, entry=entry)
    client.force_login(people.town_clerk)
    page = client.get(reverse("checklists:entry", args=[entry.pk]) + "?part=log").text
    timeline = page[page.index('class="timeline"') :]
    assert "已通过" in timeline
    assert "approved" not in timeline


def test_password_rules_are_said_in_chinese(world, user_with_role, client):
    user = user_with_role(Role.SECRETARY, world.village_a1a, full_name="村书记")
    user.set_password("old-secret-2026")
    user.save()
    client.force_login(user)
    page = client.post(
        reverse("password_change"),
        {"old_password": "old-secret-2026", "new_password1": "a1b2", "new_password2": "a1b2"},
    ).text
    assert "密码太短" in page
    assert "too short" not in page


def test_the_attachment_picker_lists_the_30_latest_and_finds_older_ones(issued, people, client):
    from checklists.models import Attachment

    first = services.entry_submit(
        actor=people.secretary,
        occurrence=_occurrence(issued, "Z02", 1),
        date=date(YEAR, 3, 1),
        content="x",
        uploads=[SimpleUploadedFile(f"签到表{n:02d}.pdf", PDF) for n in range(1, 20)],
    )
    services.entry_submit(
        actor=people.secretary,
        occurrence=_occurrence(issued, "Z02", 2),
        date=date(YEAR, 6, 1),
        content="y",
        uploads=[SimpleUploadedFile(f"会议记录{n:02d}.pdf", PDF) for n in range(1, 20)],
    )
    oldest = first.attachments.order_by("pk").first()
    Attachment.objects.filter(pk=oldest.pk).update(uploaded_at=timezone.now() - timedelta(days=400))
    client.force_login(people.secretary)
    occurrence = _occurrence(issued, "Z04")
    form_url = reverse("checklists:entry_create", args=[occurrence.pk])
    page = client.get(form_url).text
    assert page.count('name="existing"') == 30
    assert f'value="{oldest.pk}"' not in page
    latest = Attachment.objects.order_by("-uploaded_at").first()
    assert f"{timezone.localtime(latest.uploaded_at):%Y-%m-%d %H:%M}" in page  # each file with its date
    found = client.get(
        reverse("checklists:attachment_choices"), {"org": issued.organization.code, "attachment_q": "签到表01"}
    ).text
    assert f'value="{oldest.pk}"' in found
    # An older file found by the search is accepted with the form.
    response = client.post(form_url, {"date": f"{YEAR}-03-01", "content": "补", "existing": [str(oldest.pk)]})
    assert response.status_code == 302
    assert list(occurrence.entries.get().attachments.all()) == [oldest]


def test_the_attachment_search_stays_inside_the_users_area(issued, people, client, world):
    client.force_login(people.neighbour)
    response = client.get(
        reverse("checklists:attachment_choices"), {"org": world.village_a1a.code, "attachment_q": "x"}
    )
    assert response.status_code == 404


def test_the_entry_form_carries_the_upload_limits_for_the_browser(issued, people, client, settings):
    settings.EVIDENCE_MAX_FILE_BYTES = 5 * 1024 * 1024
    settings.EVIDENCE_MAX_FILES = 3
    client.force_login(people.secretary)
    page = client.get(reverse("checklists:entry_create", args=[_occurrence(issued, "Z04").pk])).text
    assert f'data-max-bytes="{5 * 1024 * 1024}"' in page
    assert 'data-max-files="3"' in page
    assert "超过 5 MB" in page or "5 MB" in page
