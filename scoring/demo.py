"""Demo assessment (issue 9): Wuchuan's 15 towns in this year's scheme, scored by a 15-judge
panel (some judges harsher than others, one refused for a town where he holds a post), with
deductions from a 通报, announced with an appeal waiting; last year's scheme, final, for
comparison; 23 secretary projects judged by a jury, 5 funded with 50,000 yuan each and spending
recorded. Everything goes through the services; built once."""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from organizations import services as spine
from organizations.demo import DEMO_PASSWORD
from organizations.models import Organization, Post, PostTitle, Role, User
from supervision import services as supervision

from . import services
from .models import AggregationRun, JudgeSheet, Project, Scheme, SchemeResult, SchemeState

COUNTY = "440883"
MEILU = "440883001"
INDICATORS = [
    ("ZB1", "抓班子带队伍", 25, "党委班子建设、书记履职、“两委”干部队伍建设，每项不达标扣2–5分。"),
    ("ZB2", "抓基层打基础", 25, "村级组织活动场所、软弱涣散整顿、阵地建设。"),
    ("ZB3", "抓党员强管理", 20, "发展党员、流动党员管理、党员教育培训。"),
    ("ZB4", "抓制度促落实", 15, "“三会一课”、主题党日、组织生活会等制度落实。"),
    ("ZB5", "抓创新出特色", 15, "书记项目推进、特色品牌、经验推广。"),
]
PROJECT_TITLES = [
    "“红色物业”进小区",
    "党员积分制管理",
    "支部建在合作社上",
    "乡贤回归助振兴",
    "村级集体经济“破零”",
    "网格党建全覆盖",
    "流动党员“云课堂”",
    "党群服务“15分钟圈”",
    "红色文化研学线路",
    "软弱涣散村整顿提升",
    "“党建+电商”带富",
    "退役军人党员先锋岗",
    "少数党员“一对一”帮带",
    "村规民约“党员带头”",
    "“书记茶话会”议事",
    "美丽乡村“党员责任区”",
    "“两新”组织党建联盟",
    "青年党员“头雁”培养",
    "党员志愿服务积分超市",
    "红色地名守护",
    "渔港党建联建",
    "“党建+文旅”融合",
    "基层治理“四议两公开”提升",
]


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


def _secretary_account(organization):
    post = Post.objects.filter(organization=organization, title=PostTitle.SECRETARY).select_related("person").first()
    person = post.person
    if person.user_id:
        return person.user
    return _account(f"sj{organization.code}", person.name, organization, Role.SECRETARY, person=person)


def build(stdout):
    if Scheme.objects.exists() or not Organization.objects.filter(code=COUNTY).exists():
        stdout.write("scoring: already built")
        return _logins()
    today = timezone.localdate()
    county = Organization.objects.get(code=COUNTY)
    towns = list(
        Organization.objects.filter(parent=county, kind__in=["town", "township", "subdistrict"]).order_by("code")
    )
    staff = User.objects.get(username="wc_staff")
    judges = [User.objects.get(username="wc_judge")] + [
        _account(f"wc_judge{n:02d}", f"吴川市评委{n:02d}", county, Role.JUDGE) for n in range(2, 16)
    ]
    # The last judge is also a 党建指导员 of 长岐镇: the conflict rule refuses that pair.
    changqi = towns[5]
    person = spine.person_create(
        actor=None, name=judges[-1].full_name, organization=county, political_status="party_member", user=judges[-1]
    )
    spine.post_create(
        actor=None,
        person=person,
        organization=changqi,
        title=PostTitle.PARTY_BUILDING_INSTRUCTOR,
        start_date=date(today.year - 2, 3, 1),
    )
    rng = random.Random(2017)
    quality = {town.pk: rng.uniform(0.72, 0.97) for town in towns}
    bias = [rng.uniform(-0.08, 0.05) for _judge in judges]  # some judges harsher than others

    last = _scheme(staff, county, towns, judges, today.year - 1, date(today.year - 1, 12, 20), quality, bias, rng)
    _announce(staff, last, ends=date(today.year - 1, 12, 28))

    supervision.notice_issue(
        actor=staff,
        issuer=county,
        prefix="吴组通字",
        year=today.year,
        title="关于部分乡镇落实基层党建责任清单不到位的通报",
        issued_on=today - timedelta(days=20),
        content="年度督导发现，个别乡镇党委抓基层党建责任落实不到位……现予通报。",
        entries=[
            {"organization": towns[6], "points": Decimal("2"), "reason": "软弱涣散村整顿进度滞后"},
            {"organization": towns[9], "points": Decimal("1.5"), "reason": "流动党员管理台账不全"},
        ],
    )
    current = _scheme(
        staff,
        county,
        towns,
        judges,
        today.year,
        today,
        quality,
        bias,
        rng,
        overdue_problem_points=Decimal("0.5"),
        overdue_problem_cap=Decimal(2),
        deduction_cap=Decimal(5),
        quota_count=3,
    )
    _announce(staff, current, ends=today + timedelta(days=5))
    meilu = Organization.objects.get(code=MEILU)
    services.appeal_file(
        actor=User.objects.get(username="ml_secretary"),
        scheme=current,
        organization=meilu,
        reason="“抓创新出特色”一项，我街道“红色物业”项目已获省级推广，评委评分未予体现，申请复核。",
    )
    _open_for_the_panel(staff, county, towns, judges, today)
    _projects(staff, county, towns, rng, today)
    stdout.write(f"scoring: {Scheme.objects.count()} schemes, {Project.objects.count()} secretary projects")
    return _logins()


def _logins():
    if not User.objects.filter(username="wc_judge02").exists():
        return []
    return [("wc_judge02", "吴川市", str(Role.JUDGE.label) + "（wc_judge02–15 同）")]


def _scheme(staff, county, towns, judges, year, scoring_date, quality, bias, rng, **rules):
    scheme = services.scheme_create(
        actor=staff,
        owner=county,
        year=year,
        name=f"吴川市{year}年度乡镇（街道）党（工）委书记抓基层党建工作考核",
        scoring_date=scoring_date,
        **rules,
    )
    services.members_add(actor=staff, scheme=scheme, organizations=towns)
    for position, (code, name, maximum, guide) in enumerate(INDICATORS, start=1):
        services.indicator_add(
            actor=staff, scheme=scheme, code=code, name=name, max_score=Decimal(maximum), guide=guide, position=position
        )
    panel = services.panel_add(actor=staff, scheme=scheme, name="大评委团")
    services.panel_assign(actor=staff, panel=panel, judges=judges, organizations=towns)
    services.scheme_advance(actor=staff, scheme=scheme, to=SchemeState.SCORING)
    indicators = list(scheme.indicators.order_by("position"))
    judge_index = {judge.pk: n for n, judge in enumerate(judges)}
    for sheet in JudgeSheet.objects.filter(scheme=scheme).select_related("judge"):
        level = quality[sheet.organization_id] + bias[judge_index[sheet.judge_id]]
        scores = []
        for indicator in indicators:
            share = min(1.0, max(0.3, level + rng.uniform(-0.06, 0.06)))
            scores.append((indicator, (indicator.max_score * Decimal(str(round(share, 2)))).quantize(Decimal("0.5"))))
        # Paper sheets of the panel, imported (评委评分): saved and submitted in one step.
        services.sheet_import(actor=staff, sheet=sheet, scores=scores)
    run = services.aggregation_start(actor=staff, scheme=scheme)
    # The job runs after the commit; the demo is one transaction, so it aggregates now.
    services.aggregation_run(run_id=run.pk)
    return scheme


def _open_for_the_panel(staff, county, towns, judges, today):
    """This quarter's ordinary assessment (平时考核) of four towns, still being scored: the
    demo's judge finds sheets to fill on the phone, not only submitted ones."""
    quarter = (today.month - 1) // 3 + 1
    scheme = services.scheme_create(
        actor=staff,
        owner=county,
        year=today.year,
        name=f"吴川市{today.year}年第{quarter}季度乡镇（街道）党建工作平时考核",
        scoring_date=today,
    )
    services.members_add(actor=staff, scheme=scheme, organizations=towns[-4:])
    for position, (code, name, maximum, guide) in enumerate(INDICATORS, start=1):
        services.indicator_add(
            actor=staff, scheme=scheme, code=code, name=name, max_score=Decimal(maximum), guide=guide, position=position
        )
    panel = services.panel_add(actor=staff, scheme=scheme, name="平时考核评委组")
    services.panel_assign(actor=staff, panel=panel, judges=judges[:3], organizations=towns[-4:])
    services.scheme_advance(actor=staff, scheme=scheme, to=SchemeState.SCORING)
    return scheme


def _announce(staff, scheme, *, ends):
    if ends >= timezone.localdate():
        services.scheme_advance(actor=staff, scheme=scheme, to=SchemeState.PUBLISHED, publication_ends_on=ends)
        return
    # Last year's scheme was aggregated, announced and made final last year; the demo writes that
    # history with last year's dates.
    aggregated = timezone.make_aware(datetime.combine(ends - timedelta(days=8), time(10)))
    AggregationRun.objects.filter(scheme=scheme).update(started_at=aggregated, finished_at=aggregated)
    Scheme.objects.filter(pk=scheme.pk).update(
        state=SchemeState.FINAL, publication_ends_on=ends, aggregated_at=aggregated
    )
    Scheme.history.bulk_history_create(
        [Scheme.objects.get(pk=scheme.pk)], update=True, default_user=staff, default_change_reason="已定稿"
    )


def _projects(staff, county, towns, rng, today):
    villages = list(
        Organization.objects.filter(parent__in=towns[1:9], kind="village")
        .exclude(code="440883001002")
        .order_by("code")[:9]
    )
    places = [town for town in towns if town.code != MEILU] + villages
    projects = []
    for place, title in zip(places, PROJECT_TITLES, strict=False):
        secretary = _secretary_account(place)
        project = services.project_file(
            actor=secretary,
            organization=place,
            year=today.year,
            title=title,
            background=f"{place.name}党组织在基层治理中面临新情况。",
            problem="党员作用发挥不充分，群众参与度不高。",
            measures="1.建立工作机制；2.明确党员责任；3.每季度总结推广。",
            schedule="一季度启动，二、三季度推进，四季度总结验收。",
            expected_result="形成可复制推广的经验做法。",
            budget=Decimal(rng.choice([30000, 50000, 80000])),
        )
        services.project_review(
            actor=staff,
            project=project,
            approve=True,
            small_scope=True,
            difficult=True,
            exemplary=True,
            feasible=True,
            comment="切口小、可操作，同意立项。",
        )
        services.project_report_add(
            actor=secretary,
            project=project,
            stage="opening",
            date=date(today.year, 3, 15),
            content="已建立项目台账，明确责任分工。",
        )
        projects.append(project)
    for project in projects[:18]:
        services.project_accept(actor=staff, project=project, passed=True, notes="资料齐全，成效明显。")
    evaluation = services.evaluation_create(
        actor=staff,
        owner=county,
        year=today.year,
        name=f"吴川市{today.year}年度书记项目评审",
        projects=projects,
        scoring_date=today,
    )
    jury = [User.objects.get(username=f"wc_judge{n:02d}") for n in range(2, 9)]
    panel = services.panel_add(actor=staff, scheme=evaluation, name="评审团")
    services.panel_assign(
        actor=staff, panel=panel, judges=jury, organizations=[project.organization for project in projects]
    )
    services.scheme_advance(actor=staff, scheme=evaluation, to=SchemeState.SCORING)
    merit = {project.organization_id: rng.uniform(0.6, 0.95) for project in projects}
    indicators = list(evaluation.indicators.order_by("position"))
    for sheet in JudgeSheet.objects.filter(scheme=evaluation):
        scores = [
            (
                i,
                (
                    i.max_score
                    * Decimal(str(round(min(1, merit[sheet.organization_id] + rng.uniform(-0.08, 0.08)), 2)))
                ).quantize(Decimal("0.5")),
            )
            for i in indicators
        ]
        services.sheet_import(actor=staff, sheet=sheet, scores=scores)
    run = services.aggregation_start(actor=staff, scheme=evaluation)
    services.aggregation_run(run_id=run.pk)
    # The announcement ends today: read the date again, since the build may have crossed midnight.
    services.scheme_advance(
        actor=staff, scheme=evaluation, to=SchemeState.PUBLISHED, publication_ends_on=timezone.localdate()
    )
    top = set(SchemeResult.objects.filter(scheme=evaluation, rank__lte=5).values_list("organization_id", flat=True))
    funded = [project for project in projects if project.organization_id in top]
    grants = services.grants_award(actor=staff, evaluation=evaluation, projects=funded, amount=Decimal(50000))
    for grant in grants[:3]:
        services.spending_record(
            actor=staff,
            grant=grant,
            date=today - timedelta(days=10),
            purpose="阵地建设及宣传物料",
            amount=Decimal(18000),
        )
        services.spending_record(
            actor=staff, grant=grant, date=today - timedelta(days=3), purpose="党员培训", amount=Decimal(12500)
        )
