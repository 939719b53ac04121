"""The permission matrix's world: a small tree with one record of every kind at each target
organization, built once through the services (issue 13, 6).

    city C
    ├── county A ── town A1 (the actors' town) ── village A1a
    │            └── town A2
    └── county B ── town B1 ── village B1b (paired with town A1 this year)

Targets, seen from town A1: own A1, child A1a, parent A, sibling A2, another county B1, paired B1b.
"""

import contextlib
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from organizations.models import OrganizationKind, Pairing, PartyType, PostTitle, Role
from tests.organizations.factories import (
    OrganizationFactory,
    PersonFactory,
    PostFactory,
    RoleAssignmentFactory,
    UserFactory,
)

TARGETS = ("own", "child", "parent", "sibling", "other_county", "paired")
TARGET_CODES = {"own": "A1", "child": "A1a", "parent": "A", "sibling": "A2", "other_county": "B1", "paired": "B1b"}
# The organization whose subtree a pairing's paired side covers: the village B1b is paired with town A1.
PAIRED_WITH = {"B1b": "A1"}

# Each persona: (role, code of the organization where the role is held). Town A1 unless said.
PERSONAS = {
    "admin": (Role.ADMIN, "A1"),
    "staff": (Role.STAFF, "A1"),
    "county_staff": (Role.STAFF, "A"),
    "town_secretary": (Role.SECRETARY, "A1"),
    "village_secretary": (Role.SECRETARY, "A1a"),
    "clerk": (Role.CLERK, "A1"),
    "judge": (Role.JUDGE, "A1"),
    "supervisor": (Role.SUPERVISOR, "A1"),
    "viewer": (Role.VIEWER, "A1"),
}


def build():
    from checklists import services as checklists
    from checklists.models import DutyKind, Frequency, MeetingKind, Occurrence
    from reviews import services as reviews
    from reviews.models import GradeSet
    from reviews.models import Level as ReviewLevel
    from scoring import services as scoring
    from supervision import services as supervision
    from supervision.models import Aspect, Source

    today = timezone.localdate()
    orgs = {}

    def org(code, kind, parent, party_type=PartyType.COMMITTEE):
        orgs[code] = OrganizationFactory(
            code=code, name=f"组织{code}", kind=kind, party_type=party_type, parent=parent and orgs[parent]
        )

    org("C", OrganizationKind.CITY, None)
    org("A", OrganizationKind.COUNTY, "C")
    org("B", OrganizationKind.COUNTY, "C")
    org("A1", OrganizationKind.TOWN, "A")
    org("A2", OrganizationKind.TOWN, "A")
    org("B1", OrganizationKind.TOWN, "B")
    org("A1a", OrganizationKind.VILLAGE, "A1", PartyType.BRANCH)
    org("B1b", OrganizationKind.VILLAGE, "B1", PartyType.BRANCH)

    def user(username, role, code, **fields):
        account = UserFactory(username=username, full_name=fields.pop("full_name", username), **fields)
        RoleAssignmentFactory(user=account, organization=orgs[code], role=role)
        return account

    personas = {name: user(f"m_{name}", role, code) for name, (role, code) in PERSONAS.items()}
    city_staff = user("m_city_staff", Role.STAFF, "C")
    # The persons behind the two secretary personas hold the secretary's post.
    for name in ("town_secretary", "village_secretary"):
        where = orgs[PERSONAS[name][1]]
        PostFactory(person=PersonFactory(organization=where, user=personas[name]), organization=where)
    Pairing.objects.create(
        year=today.year,
        village=orgs["B1b"],
        unit=orgs["A1"],
        responsible=PersonFactory(organization=orgs["A1"]),
    )

    records = {kind: {} for kind in KINDS}
    targets = {target: orgs[code] for target, code in TARGET_CODES.items()}
    # One issued list reaches every committee and branch of the city.
    issued = checklists.template_create(
        actor=city_staff,
        owner=orgs["C"],
        year=today.year,
        name="矩阵清单",
        target_types=[PartyType.COMMITTEE, PartyType.BRANCH],
    )
    checklists.template_item_create(
        actor=city_staff,
        template=issued,
        code="M01",
        category="组织生活",
        title="支委会",
        requirement="每月召开",
        frequency=Frequency.MONTHLY,
        score=Decimal("10"),
        meeting_kind=MeetingKind.COMMITTEE_MEETING,
    )
    checklists.checklist_issue(
        actor=city_staff, template=issued, root=orgs["C"], claim_deadline=today + timedelta(days=5)
    )
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    for target, place in targets.items():
        secretary = user(f"m_sec_{place.code}", Role.SECRETARY, place.code)
        person = PersonFactory(organization=place, name=f"{place.code}书记", user=secretary)
        PostFactory(person=person, organization=place, title=PostTitle.SECRETARY)
        template = checklists.template_create(
            actor=city_staff, owner=place, year=today.year, name=f"{place.code}清单", target_types=[PartyType.BRANCH]
        )
        records["template"][target] = template
        records["template_item"][target] = checklists.template_item_create(
            actor=city_staff,
            template=template,
            code="X01",
            category="组织生活",
            title="党课",
            requirement="每季度一次",
            frequency=Frequency.QUARTERLY,
            score=Decimal("5"),
        )
        checklist = issued.checklists.get(organization=place)
        records["checklist"][target] = checklist
        records["item"][target] = checklist.items.get()
        occurrences = Occurrence.objects.filter(item__checklist=checklist).order_by("deadline")
        records["occurrence"][target] = occurrences.last()
        records["entry"][target] = checklists.entry_submit(
            actor=secretary, occurrence=occurrences.first(), date=today, content="已召开"
        )
        records["meeting"][target] = checklists.meeting_submit(
            actor=secretary,
            organization=place,
            kind=MeetingKind.COMMITTEE_MEETING,
            date=today,
            topic="学习",
            expected=5,
            present=5,
            absences=[],
            minutes="会议纪要",
        )
        checklists.duty_record_add(
            actor=secretary, organization=place, date=last_month, kind=DutyKind.HEART_TALK, content="谈心谈话"
        )
        records["duty_report"][target] = checklists.duty_report_submit(
            actor=secretary, organization=place, month=last_month
        )
        records["organization"][target] = place
        records["problem"][target] = supervision.problem_list(
            actor=city_staff,
            organization=place,
            source=Source.SUPERVISION,
            category="组织生活",
            description="会议记录不全",
            found_on=today,
            found_by="督导组",
            deadline=today + timedelta(days=20),
        )
        records["extension"][target] = supervision.extension_request(
            actor=secretary,
            problem=records["problem"][target],
            reason="需要更多时间",
            new_deadline=today + timedelta(days=40),
        )
        records["visit"][target], _new = supervision.visit_record(
            actor=city_staff,
            organization=place,
            date=today,
            answers={aspect: {"ok": True, "note": "已查"} for aspect in Aspect},
        )
        records["sample"][target] = supervision.sample_draw(actor=city_staff, root=place, kinds=[place.kind], size=1)
        records["notice"][target] = supervision.notice_issue(
            actor=city_staff,
            issuer=place,
            prefix="组通字",
            year=today.year,
            title="通报",
            issued_on=today,
            content="通报内容",
            entries=[{"organization": place, "person": None, "points": Decimal("1"), "reason": "台账不全"}],
        )
        session = reviews.session_create(
            actor=city_staff,
            organizer=place,
            year=today.year,
            title="述职评议",
            level=ReviewLevel.VILLAGE_SECRETARIES,
            starts_on=today - timedelta(days=1),
            ends_on=today + timedelta(days=5),
            grade_set=GradeSet.CADRE,
        )
        records["session"][target] = session
        venue = reviews.venue_add(actor=city_staff, session=session, name="会场", organization=place, held_on=today)
        records["venue"][target] = venue
        records["group"][target] = reviews.group_add(
            actor=city_staff, venue=venue, name="党员", weight=Decimal(1), expected=10
        )
        reviews.reportees_add(
            actor=city_staff,
            session=session,
            organizations=[place],
            titles=[PostTitle.SECRETARY],
            venues=[venue],
        )
        # the secretary personas hold posts too: a reportee sees only his or her own result
        session.reportees.exclude(person=person).delete()
        records["reportee"][target] = session.reportees.get()
        scheme = scoring.scheme_create(
            actor=city_staff,
            owner=place,
            year=today.year,
            name=f"{place.code}考核",
            weight_checklist=Decimal(50),
            weight_panel=Decimal(50),
            weight_mass=Decimal(0),
            weight_ordinary=Decimal(0),
            scoring_date=today,
        )
        records["scheme"][target] = scheme
        records["panel"][target] = scoring.panel_add(actor=city_staff, scheme=scheme, name="评委组")
        records["project"][target] = scoring.project_file(
            actor=secretary,
            organization=place,
            year=today.year,
            title="书记项目",
            background="背景",
            problem="问题",
            measures="措施",
            schedule="进度",
            expected_result="成效",
        )
        records["attachment"][target] = checklists.attachments_for(
            actor=secretary,
            organization=place,
            uploads=[SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)],
            existing_ids=[],
        )[0]
        records["account"][target] = secretary
        records["assignment"][target] = secretary.role_assignments.get()
        records["paper"][target] = records["group"][target]
        records["scheme_sheet"][target] = scheme
        with contextlib.suppress(ValidationError):
            scoring.members_add(actor=city_staff, scheme=scheme, organizations=[place])
        records["scheme_organization"][target] = scheme
        # every target has a pairing; only B1b's is paired with the actors' town
        records["pairing"][target] = Pairing.objects.filter(village=place).first() or Pairing.objects.create(
            year=today.year, village=place, leader=person, responsible=person
        )
    return {"orgs": orgs, "personas": personas, "records": records}


KINDS = (
    "template",
    "template_item",
    "checklist",
    "item",
    "occurrence",
    "entry",
    "meeting",
    "duty_report",
    "organization",
    "problem",
    "extension",
    "visit",
    "sample",
    "notice",
    "session",
    "venue",
    "group",
    "reportee",
    "scheme",
    "panel",
    "project",
    "pairing",
    "attachment",
    "account",
    "assignment",
    "paper",
    "scheme_sheet",
    "scheme_organization",
)


def organization_of(kind, record):
    """The organization a record belongs to, as DESIGN.md places it."""
    return {
        "template": lambda r: r.owner,
        "template_item": lambda r: r.template.owner,
        "checklist": lambda r: r.organization,
        "item": lambda r: r.checklist.organization,
        "occurrence": lambda r: r.item.checklist.organization,
        "organization": lambda r: r,
        "extension": lambda r: r.problem.organization,
        "sample": lambda r: r.root,
        "notice": lambda r: r.issuer,
        "session": lambda r: r.organizer,
        "group": lambda r: r.venue.organization,
        "scheme": lambda r: r.owner,
        "panel": lambda r: r.scheme.owner,
        "pairing": lambda r: r.village,
        "account": lambda r: r.role_assignments.get().organization,
        "paper": lambda r: r.venue.organization,
        "scheme_sheet": lambda r: r.owner,
        "scheme_organization": lambda r: r.owner,
    }.get(kind, lambda r: r.organization)(record)
