"""Object references (issue 13, 7): ids of another area in paths, filters, export parameters,
attachment and export URLs, and posted foreign keys are refused; extra posted fields never
persist; no form takes every model field.

On the demo (seed_demo): 吴川市 (440883) and 遂溪县 (440823) are sibling counties; staff of one
probe every object of the other."""

import ast
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from checklists.models import (
    Attachment,
    Checklist,
    ChecklistItem,
    ChecklistTemplate,
    DutyReport,
    LedgerEntry,
    MeetingRecord,
    Occurrence,
    TemplateItem,
)
from notifications.models import Notification
from organizations.models import Organization, Pairing, Person, User
from reviews.models import RaterGroup, Reportee, ReviewSession, Venue
from scoring.models import Panel, Project, Scheme
from spreadsheets.models import ExportJob
from supervision.models import Notice, Problem, Severity, Source, UnannouncedSample
from tests.sources import parsed

ROOT = Path(__file__).resolve().parents[2]
WUCHUAN, SUIXI = "/440800/440883/", "/440800/440823/"

# (url name, model, lookup of the object's organization path, attribute given to the url)
BY_ID = [
    ("checklists:template", ChecklistTemplate, "owner__path", "pk"),
    ("checklists:issue_status", ChecklistTemplate, "owner__path", "pk"),
    ("checklists:template_item", TemplateItem, "template__owner__path", "pk"),
    ("checklists:checklist", Checklist, "organization__path", "pk"),
    ("checklists:item", ChecklistItem, "checklist__organization__path", "pk"),
    ("checklists:entry_create", Occurrence, "item__checklist__organization__path", "pk"),
    ("checklists:entry", LedgerEntry, "organization__path", "pk"),
    ("checklists:attachment", Attachment, "organization__path", "pk"),
    ("checklists:meeting", MeetingRecord, "organization__path", "pk"),
    ("checklists:duty_report", DutyReport, "organization__path", "pk"),
    ("checklists:meetings", Organization, "path", "code"),
    ("organizations:detail", Organization, "path", "code"),
    ("organizations:children", Organization, "path", "code"),
    ("organizations:pairing", Pairing, "village__path", "pk"),
    ("reviews:session", ReviewSession, "organizer__path", "pk"),
    ("reviews:session_edit", ReviewSession, "organizer__path", "pk"),
    ("reviews:advance", ReviewSession, "organizer__path", "pk"),
    ("reviews:precheck", ReviewSession, "organizer__path", "pk"),
    ("reviews:results", ReviewSession, "organizer__path", "pk"),
    ("reviews:results_print", ReviewSession, "organizer__path", "pk"),
    ("reviews:consequences", ReviewSession, "organizer__path", "pk"),
    ("reviews:venue", Venue, "organization__path", "pk"),
    ("reviews:form_print", Venue, "organization__path", "pk"),
    ("reviews:tally_print", Venue, "organization__path", "pk"),
    ("reviews:live", Venue, "organization__path", "pk"),
    ("reviews:codes", RaterGroup, "venue__organization__path", "pk"),
    ("reviews:reportee", Reportee, "organization__path", "pk"),
    ("scoring:scheme", Scheme, "owner__path", "pk"),
    ("scoring:scheme_edit", Scheme, "owner__path", "pk"),
    ("scoring:advance", Scheme, "owner__path", "pk"),
    ("scoring:aggregate", Scheme, "owner__path", "pk"),
    ("scoring:run", Scheme, "owner__path", "pk"),
    ("scoring:board", Scheme, "owner__path", "pk"),
    ("scoring:judges", Scheme, "owner__path", "pk"),
    ("scoring:appeals", Scheme, "owner__path", "pk"),
    ("scoring:deductions", Scheme, "owner__path", "pk"),
    ("scoring:grants", Scheme, "owner__path", "pk"),
    ("scoring:panel", Panel, "scheme__owner__path", "pk"),
    ("scoring:project", Project, "organization__path", "pk"),
    ("supervision:problem", Problem, "organization__path", "pk"),
    ("supervision:problem_print", Problem, "organization__path", "pk"),
    ("supervision:sample", UnannouncedSample, "root__path", "pk"),
    ("supervision:notice", Notice, "issuer__path", "pk"),
]

# Pages that take an organization as a filter (?org=CODE): another area's is never shown.
FILTERS = [
    "checklists:progress",
    "checklists:duty",
    "supervision:board",
    "reviews:barred",
    "reviews:shares",
]


@pytest.fixture(scope="module")
def demo_built(django_db_setup, django_db_blocker):
    """The demo, built once for this module inside a transaction rolled back at its end (each
    test runs in a savepoint within it)."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=io.StringIO())
        yield {username: User.objects.get(username=username) for username in ["wc_staff", "sx_staff", "wc_admin"]}
        transaction.set_rollback(True)


@pytest.fixture
def demo(demo_built, db):
    return demo_built


def _probes(model, lookup):
    """(object, prober): an object of each county with the other county's staff probing it."""
    for path, prober in ((WUCHUAN, "sx_staff"), (SUIXI, "wc_staff")):
        found = model.objects.filter(**{f"{lookup}__startswith": path}).order_by("pk").first()
        if found is not None:
            yield found, prober


def test_ids_of_another_area_in_paths_answer_404_to_get_and_post(demo, client, settings, tmp_path):
    from checklists.services import attachments_for

    settings.MEDIA_ROOT = tmp_path
    # the demo holds no evidence file: one for a town of 吴川市
    png = SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    meilu = Organization.objects.get(code="440883001")
    attachments_for(actor=demo["wc_staff"], organization=meilu, uploads=[png], existing_ids=[])
    leaks, probed = [], set()
    for name, model, lookup, attribute in BY_ID:
        for found, prober in _probes(model, lookup):
            client.force_login(demo[prober])
            url = reverse(name, args=[getattr(found, attribute)])
            for method in (client.get, client.post):
                status = method(url).status_code
                if status != 404 and not (method == client.get and status == 405):  # a POST-only route
                    leaks.append(f"{method.__name__.upper()} {url} as {prober}: {status}")
            probed.add(name)
    assert not leaks, "\n".join(leaks)
    # every route of the table was really probed (the demo has objects of one county or both)
    assert probed == {name for name, *_rest in BY_ID}


def test_another_users_notifications_and_exports_answer_404(demo, client):
    notification = Notification.objects.filter(user=demo["wc_staff"]).first() or Notification.objects.create(
        user=demo["wc_staff"], title="x", url="/"
    )
    job = ExportJob.objects.create(
        kind="organizations", params={"org": "440883"}, title="x", requester=demo["wc_staff"], status="done"
    )
    client.force_login(demo["sx_staff"])
    assert client.post(reverse("notifications:open", args=[notification.pk])).status_code == 404
    assert client.get(reverse("spreadsheets:export_download", args=[job.pk])).status_code == 404


@pytest.mark.parametrize("name", FILTERS)
def test_an_organization_filter_of_another_area_never_shows_it(demo, client, name):
    meilu = Organization.objects.get(code="440883001")  # 梅录街道, a town of 吴川市
    client.force_login(demo["sx_staff"])
    response = client.get(reverse(name), {"org": meilu.code})
    assert response.status_code in {200, 403, 404}
    assert meilu.name not in response.text


def test_export_parameters_of_another_area_are_refused_and_no_job_is_made(demo, client):
    client.force_login(demo["sx_staff"])
    # given the same export of its own county works
    own = client.post(reverse("spreadsheets:export_create"), {"kind": "organizations", "org": "440823"})
    assert own.status_code == 302
    assert ExportJob.objects.filter(requester=demo["sx_staff"]).count() == 1
    # then the neighbour's is refused
    response = client.post(reverse("spreadsheets:export_create"), {"kind": "organizations", "org": "440883"})
    assert response.status_code in {403, 404}
    assert ExportJob.objects.filter(requester=demo["sx_staff"]).count() == 1


def _problem_form(code):
    return {
        "organization": code,
        "source": Source.choices[0][0],
        "category": "组织建设",
        "description": "会议记录不全",
        "found_on": timezone.localdate().isoformat(),
        "found_by": "督导组",
        "deadline": (timezone.localdate() + timezone.timedelta(days=30)).isoformat(),
        "severity": Severity.choices[0][0],
        # the 责任人 is one of the organization's own people
        "responsible_person": Person.objects.filter(organization__code=code).values_list("name", flat=True).first(),
    }


def test_posted_organizations_of_another_area_are_refused(demo, client):
    client.force_login(demo["sx_staff"])
    before = Problem.objects.count()
    # a problem of 吴川市's town posted by 遂溪县's staff, also as the responsible unit
    for data in (_problem_form("440883001"), {**_problem_form("440823001"), "responsible_unit": "440883001"}):
        response = client.post(reverse("supervision:problem_create"), data)
        assert response.status_code == 200  # the form again, with its error
    assert Problem.objects.count() == before
    # the same form for a town of its own county lists the problem
    response = client.post(reverse("supervision:problem_create"), _problem_form("440823001"))
    assert response.status_code == 302, response.context["form"].errors
    assert Problem.objects.count() == before + 1


def test_an_attachment_of_another_area_cannot_be_linked_by_its_id(demo, client, settings, tmp_path):
    from checklists.services import attachments_for

    settings.MEDIA_ROOT = tmp_path
    secretary = User.objects.get(username="village_secretary")  # 塘边村, a village of 吴川市
    village = secretary.role_assignments.get().organization

    def attachment(organization):
        png = SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
        return attachments_for(actor=demo["wc_staff"], organization=organization, uploads=[png], existing_ids=[])[0]

    own, foreign = attachment(village), attachment(Organization.objects.get(code="440823001"))
    occurrence = (
        Occurrence.objects.filter(item__checklist__organization=village, done_at__isnull=True)
        .exclude(entries__status="submitted")
        .order_by("pk")
        .first()
    )
    client.force_login(secretary)
    url = reverse("checklists:entry_create", args=[occurrence.pk])
    data = {"date": timezone.localdate().isoformat(), "content": "召开支委会"}
    assert client.post(url, {**data, "existing": [foreign.pk]}).status_code == 200  # the form, with its error
    assert not LedgerEntry.objects.filter(attachments=foreign).exists()
    assert client.post(url, {**data, "existing": [own.pk]}).status_code == 302
    assert LedgerEntry.objects.filter(attachments=own, occurrence=occurrence).exists()


def test_extra_posted_fields_never_persist(demo, client):
    client.force_login(demo["wc_admin"])
    before = timezone.now()
    response = client.post(
        reverse("accounts:create"),
        {
            "username": "new_clerk",
            "full_name": "新文书",
            "organization": "440883001",
            "role": "",
            "password": "a-long-enough-pass-2026",
            "password_again": "a-long-enough-pass-2026",
            # fields no form offers
            "is_superuser": "on",
            "is_staff": "on",
            "date_joined": "2000-01-01",
            "organization_id": Organization.objects.get(code="440823").pk,
        },
    )
    assert response.status_code == 302
    account = User.objects.get(username="new_clerk")
    assert (account.is_superuser, account.is_staff, account.organization.code) == (False, False, "440883001")
    assert account.date_joined >= before

    client.force_login(demo["wc_staff"])
    data = {
        **_problem_form("440883001"),
        "status": "closed",
        "listed_by": demo["sx_staff"].pk,
        "closed_at": "2000-01-01",
    }
    assert client.post(reverse("supervision:problem_create"), data).status_code == 302
    problem = Problem.objects.latest("pk")
    assert problem.listed_by == demo["wc_staff"]
    assert problem.status != "closed"


def _project_sources():
    for path in sorted(ROOT.glob("*/*.py")):
        if path.parts[-2] not in {".venv", "tests", "benchmarks"}:
            yield str(path.relative_to(ROOT)), path.read_text()


def _model_forms_with_all_fields(sources):
    """Every Meta that sets fields = "__all__", or exclude (which takes everything else)."""
    found = []
    for name, text in sources:
        for node in ast.walk(parsed(text)):
            if isinstance(node, ast.ClassDef) and node.name == "Meta":
                for statement in node.body:
                    if isinstance(statement, ast.Assign) and any(
                        isinstance(target, ast.Name) and target.id in {"fields", "exclude"}
                        for target in statement.targets
                    ):
                        value = statement.value
                        is_all = isinstance(value, ast.Constant) and value.value == "__all__"
                        if is_all or statement.targets[0].id == "exclude":
                            found.append(f"{name}:{statement.lineno}")
    return found


def test_no_form_takes_every_model_field():
    # A form names the fields it takes: "__all__" (or exclude) would take any field added later.
    assert _model_forms_with_all_fields(_project_sources()) == []
    # and the check finds one
    sample = "class F(forms.ModelForm):\n    class Meta:\n        model = User\n        fields = '__all__'\n"
    assert _model_forms_with_all_fields([("sample.py", sample)]) == ["sample.py:4"]
