"""Demo reviews (issue 8): Suixi's 遂城镇 runs its "双述双评双考" — the town venue and each of its
three villages' venues, every village's secretary and director reporting, town cadres rating by
phone, party members by phone and villager representatives on paper (counted twice). One
village secretary is rated 不称职 for the second year running (last year's session is in the
demo, published), and one point of the town secretary's 点评 is listed as a problem. Wuchuan's
梅录街道 has a session open for rating, so that slips can be printed and phones can vote.
Everything goes through the services; idempotent (built once)."""

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from organizations import services as spine
from organizations.demo import DEMO_PASSWORD
from organizations.models import Organization, Post, PostTitle, Role, User

from . import services
from .models import GradeSet, Level, ReviewSession, State, Verdict

TOWN = "440823001"  # 遂城镇, 遂溪县
VILLAGES = ["440823001002", "440823001003", "440823001004"]
WEAK_VILLAGE = "440823001004"  # its secretary is rated 不称职 two years running
MEILU = "440883001"  # 梅录街道, 吴川市
WUCHUAN = "440883"


def _account(username, full_name, organization, role, person=None):
    user = User.objects.filter(username=username).first()
    if user is None:
        user = spine.user_create(
            actor=None, username=username, full_name=full_name, password=DEMO_PASSWORD, organization=organization
        )
        spine.role_assign(actor=None, user=user, organization=organization, role=role)
    if person is not None and person.user_id is None:
        spine.person_update(actor=None, person=person, user=user)
    return user


def _secretary(code):
    return Post.objects.get(organization__code=code, title=PostTitle.SECRETARY).person


def build(stdout):
    if ReviewSession.objects.exists() or not Organization.objects.filter(code=TOWN).exists():
        stdout.write("reviews: already built")
        return []
    today = timezone.localdate()
    town = Organization.objects.get(code=TOWN)
    staff = User.objects.get(username="sx_staff")
    teller = _account("sx_teller", "遂城镇党建办干事", town, Role.STAFF)
    weak = _secretary(WEAK_VILLAGE)
    _account("sx_village_secretary", weak.name, weak.organization, Role.SECRETARY, person=weak)
    rng = random.Random(2017)

    last_year = _session(staff, town, today.year - 1, today.replace(year=today.year - 1), two_layers=False)
    _run(last_year, staff, teller, rng, weak_pk=last_year.reportees.get(person=weak).pk, comment=False)

    this_year = _session(staff, town, today.year, today - timedelta(days=3), two_layers=True)
    _run(this_year, staff, teller, rng, weak_pk=this_year.reportees.get(person=weak).pk, comment=True)

    _county_review(today, rng)

    meilu = Organization.objects.get(code=MEILU)
    open_session = services.session_create(
        actor=User.objects.get(username="wc_staff"),
        organizer=meilu,
        year=today.year,
        title=f"梅录街道{today.year}年度村（社区）党组织书记抓党建述职评议",
        level=Level.VILLAGE_SECRETARIES,
        starts_on=today,
        ends_on=today + timedelta(days=14),
        grade_set=GradeSet.PARTY_BUILDING,
    )
    wc_staff = User.objects.get(username="wc_staff")
    venue = services.venue_add(
        actor=wc_staff,
        session=open_session,
        name="梅录街道会场",
        organization=meilu,
        held_on=today,
        tellers="林芳、陈静",
    )
    services.group_add(actor=wc_staff, venue=venue, name="街道领导班子", weight=Decimal(40), expected=7)
    services.group_add(actor=wc_staff, venue=venue, name="党员和群众代表", weight=Decimal(60), expected=30)
    services.reportees_add(
        actor=wc_staff,
        session=open_session,
        organizations=Organization.objects.filter(parent=meilu),
        titles=[PostTitle.SECRETARY],
        venues=[venue],
    )
    services.session_advance(actor=wc_staff, session=open_session, to=State.PRE_CHECK)
    for reportee in open_session.reportees.all():
        services.precheck_record(actor=wc_staff, reportee=reportee, verdict=Verdict.CONSISTENT)
    services.session_advance(actor=wc_staff, session=open_session, to=State.OPEN)

    stdout.write(f"reviews: {ReviewSession.objects.count()} sessions")
    return [
        ("sx_teller", town.name, str(Role.STAFF.label) + "（第二计票录入）"),
        ("sx_village_secretary", weak.organization.name_with_town, str(Role.SECRETARY.label) + "（述职对象）"),
    ]


def _county_review(today, rng):
    """吴川市's town secretaries report to the county, rated by phone: the mass-evaluation
    component of the county's year-end assessment reads these results."""
    staff = User.objects.get(username="wc_staff")
    county = Organization.objects.get(code=WUCHUAN)
    session = services.session_create(
        actor=staff,
        organizer=county,
        year=today.year,
        title=f"吴川市{today.year}年度乡镇（街道）党（工）委书记抓基层党建述职评议",
        level=Level.TOWN_SECRETARIES,
        starts_on=today - timedelta(days=6),
        ends_on=today - timedelta(days=5),
        grade_set=GradeSet.PARTY_BUILDING,
    )
    venue = services.venue_add(
        actor=staff, session=session, name="吴川市会场", organization=county, held_on=today - timedelta(days=6)
    )
    groups = [
        services.group_add(actor=staff, venue=venue, name="市领导", weight=Decimal(30), expected=7),
        services.group_add(actor=staff, venue=venue, name="市直单位和乡镇代表", weight=Decimal(70), expected=30),
    ]
    towns = Organization.objects.filter(parent=county, kind__in=["town", "township", "subdistrict"])
    services.reportees_add(
        actor=staff, session=session, organizations=towns, titles=[PostTitle.SECRETARY], venues=[venue]
    )
    services.session_advance(actor=staff, session=session, to=State.PRE_CHECK)
    for reportee in session.reportees.all():
        services.precheck_record(actor=staff, reportee=reportee, verdict=Verdict.CONSISTENT)
    services.session_advance(actor=staff, session=session, to=State.OPEN)
    reportees = list(venue.reportees.order_by("order", "pk"))
    leaning = {reportee.pk: rng.choice([[60, 35, 5, 0], [40, 50, 9, 1], [25, 55, 17, 3]]) for reportee in reportees}
    for group in groups:
        _batch, codes = services.codes_generate(actor=staff, group=group, count=group.expected)
        for code in codes[: group.expected - rng.randint(0, 2)]:
            services.ballot_cast(
                code=code,
                answers={r.pk: {"grade": rng.choices(range(4), leaning[r.pk])[0]} for r in reportees},
            )
    services.session_advance(actor=staff, session=session, to=State.CLOSED)
    services.results_compute_now(session_id=session.pk)
    services.session_advance(actor=staff, session=session, to=State.PUBLISHED)


def _session(staff, town, year, day, *, two_layers):
    title = (
        f"遂城镇{year}年度村“两委”干部述职评议（双述双评双考）"
        if two_layers
        else f"遂城镇{year}年度村党组织书记述职评议"
    )
    session = services.session_create(
        actor=staff,
        organizer=town,
        year=year,
        title=title,
        level=Level.VILLAGE_SECRETARIES,
        starts_on=day,
        ends_on=day + timedelta(days=10),
        grade_set=GradeSet.CADRE,
    )
    town_venue = services.venue_add(
        actor=staff,
        session=session,
        name="遂城镇会场",
        organization=town,
        held_on=day,
        scrutineers="陈伟、黄敏",
        tellers="李娜、梁强",
    )
    services.group_add(actor=staff, venue=town_venue, name="镇领导班子", weight=Decimal(30), expected=7)
    services.group_add(actor=staff, venue=town_venue, name="镇干部", weight=Decimal(30), expected=24)
    villages = Organization.objects.filter(code__in=VILLAGES).order_by("code")
    titles = [PostTitle.SECRETARY, PostTitle.COMMITTEE_DIRECTOR] if two_layers else [PostTitle.SECRETARY]
    if two_layers:
        for village in villages:
            venue = services.venue_add(
                actor=staff,
                session=session,
                name=f"{village.name}会场",
                organization=village,
                held_on=day + timedelta(days=2),
                scrutineers="村务监督委员会主任",
                tellers="村党务工作者",
            )
            services.group_add(actor=staff, venue=venue, name="党员", weight=Decimal(25), expected=30)
            services.group_add(actor=staff, venue=venue, name="村民代表", weight=Decimal(15), expected=20)
    services.reportees_add(
        actor=staff, session=session, organizations=villages, titles=titles, venues=[town_venue], own_venue=True
    )
    return session


# Grades drawn per ballot: a reportee's weights over 优秀 / 称职 / 基本称职 / 不称职.
GOOD = [55, 40, 4, 1]
WEAK = [0, 10, 20, 70]


def _run(session, staff, teller, rng, *, weak_pk, comment):
    services.session_advance(actor=staff, session=session, to=State.PRE_CHECK)
    for reportee in session.reportees.all():
        if reportee.pk == weak_pk:
            services.precheck_record(
                actor=staff,
                reportee=reportee,
                verdict=Verdict.PARTLY,
                notes="报告称“三会一课”全部落实，平台记录有3个月支委会逾期未开。",
            )
        else:
            services.precheck_record(actor=staff, reportee=reportee, verdict=Verdict.CONSISTENT)
    services.session_advance(actor=staff, session=session, to=State.OPEN)
    for venue in session.venues.prefetch_related("groups", "reportees"):
        reportees = list(venue.reportees.order_by("order", "pk"))
        for group in venue.groups.all():
            cast = group.expected - rng.randint(0, 2)
            if group.name == "村民代表":  # on paper, counted twice by two tellers
                _paper(group, reportees, cast, staff, teller, rng, weak_pk)
                continue
            _batch, codes = services.codes_generate(actor=staff, group=group, count=group.expected)
            for code in codes[:cast]:
                answers = {}
                for reportee in reportees:
                    weights = WEAK if reportee.pk == weak_pk else GOOD
                    if rng.random() < 0.04:
                        answers[reportee.pk] = {"abstain": True}
                    else:
                        answers[reportee.pk] = {"grade": rng.choices(range(4), weights)[0]}
                services.ballot_cast(code=code, answers=answers)
    if comment:
        weak = session.reportees.get(pk=weak_pk)
        town_secretary = _secretary(TOWN)
        services.comment_record(
            actor=staff,
            reportee=weak,
            commented_by=town_secretary.name,
            comment="抓党建主责意识不强，“三会一课”落实不经常，软弱涣散问题整改进度慢。",
            problems=[
                {
                    "category": "组织生活",
                    "description": "述职评议点评：支委会未按月召开，“三会一课”记录不全",
                    "deadline": timezone.localdate() + timedelta(days=30),
                }
            ],
        )
    services.session_advance(actor=staff, session=session, to=State.CLOSED)
    # The job runs after the commit; the demo is one transaction, so it works the results out now.
    services.results_compute_now(session_id=session.pk)
    services.session_advance(actor=staff, session=session, to=State.PUBLISHED)


def _paper(group, reportees, collected, staff, teller, rng, weak_pk):
    valid = collected - 1  # one ballot spoilt
    counts = {}
    for reportee in reportees:
        weights = WEAK if reportee.pk == weak_pk else GOOD
        grades = [0, 0, 0, 0]
        for _ in range(valid):
            grades[rng.choices(range(4), weights)[0]] += 1
        counts[reportee.pk] = {f"grade_{i}": grades[i] for i in range(4)}
    header = {"present": collected, "issued": collected, "collected": collected, "valid": valid, "invalid": 1}
    services.paper_entry_save(actor=staff, group=group, number=1, teller="李娜", counts=counts, **header)
    services.paper_entry_save(actor=teller, group=group, number=2, teller="梁强", counts=counts, **header)
