"""Demo problems in 吴川市: every state of the life cycle, extensions, a missed extension with
its admonishment recommendation, follow-ups, a supervision visit and a 通报. Idempotent."""

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from checklists.models import ChecklistItem, MeetingKind
from organizations.models import Organization, User

from . import services
from .models import Aspect, Problem, Source


def build(stdout):
    if Problem.objects.exists() or not User.objects.filter(username="wc_supervisor").exists():
        stdout.write("supervision: already built")
        return []
    today = timezone.localdate()
    supervisor = User.objects.get(username="wc_supervisor")
    staff = User.objects.get(username="wc_staff")
    secretary = User.objects.get(username="village_secretary")
    clerk = User.objects.get(username="ml_clerk")
    village = Organization.objects.get(code="440883001002")
    town = village.parent
    neighbours = list(Organization.objects.filter(parent=town).exclude(pk=village.pk).order_by("code"))
    education = Organization.objects.get(code="440883D01")

    def listed(organization, description, days_ago, days_left, **extra):
        return services.problem_list(
            actor=supervisor,
            organization=organization,
            source=extra.pop("source", Source.SUPERVISION),
            category=extra.pop("category", "组织生活"),
            description=description,
            found_on=today - timedelta(days=days_ago),
            found_by="吴川市督导组",
            deadline=today + timedelta(days=days_left),
            # 责任人 (issue 11 point 7): the secretary of the organization, as on a real 督办单.
            responsible_person=services.secretary_on(organization, today),
            **extra,
        )

    listed(village, "党员活动室“五有”标准不达标，制度未上墙", 3, 27, category="阵地建设")
    claimed = listed(village, "村务党务公开栏内容未按季度更新", 10, 20, category="党务公开")
    services.problem_claim(actor=secretary, problem=claimed)
    committee_meetings = ChecklistItem.objects.filter(
        checklist__organization=village,
        checklist__template__year=today.year,
        meeting_kind=MeetingKind.COMMITTEE_MEETING,
    ).first()
    rectifying = listed(village, "三会一课记录不规范，部分支委会缺签到表", 30, 4, checklist_item=committee_meetings)
    services.problem_claim(actor=secretary, problem=rectifying)
    services.problem_plan(
        actor=secretary,
        problem=rectifying,
        measures="1.补齐近三个月签到表；2.统一使用会议记录本。",
        person="邓平",
        deadline=today + timedelta(days=4),
    )
    services.rectification_record_add(
        actor=secretary, problem=rectifying, date=today - timedelta(days=5), content="已补齐8月、9月支委会签到表。"
    )
    submitted = listed(neighbours[0], "流动党员台账信息不全", 40, 10, category="党员管理")
    _to_rectifying(submitted, secretary=None, actor=staff)
    services.problem_request_closing(actor=clerk, problem=submitted, report="已逐一联系流动党员，补全台账信息。")
    failed = listed(neighbours[1], "党费收缴未按月登记", 60, 15, category="党费管理")
    _to_rectifying(failed, secretary=None, actor=staff)
    services.problem_request_closing(actor=clerk, problem=failed, report="已补登记。")
    services.problem_check(actor=supervisor, problem=failed, passed=False, comment="6月、7月仍缺收据，请补齐后再申请。")
    closed = listed(village, "主题党日活动内容单一", 90, -30, source=Source.SELF_CHECK)
    _to_rectifying(closed, secretary=secretary, actor=secretary)
    services.problem_request_closing(actor=secretary, problem=closed, report="已制定全年主题党日计划并落实。")
    services.problem_check(actor=clerk, problem=closed, passed=True, comment="整改到位。")
    unfinished = listed(neighbours[2], "村级组织活动场所改造未完工", 400, -300, category="阵地建设")
    services.problem_carry_over(actor=staff, problem=unfinished, deadline=date(unfinished.year + 1, 12, 31))
    cancelled = listed(neighbours[2], "重复登记的问题", 5, 30, source=Source.MASS_REPORT)
    services.problem_cancel(actor=supervisor, problem=cancelled, reason="与已挂牌问题重复，误登记。")
    # An extension asked after the deadline, approved, and missed again: an admonishment is due.
    late = listed(education, "第一书记驻村天数不足", 80, -40, category="驻村工作")
    services.problem_claim(actor=User.objects.get(username="wc_education"), problem=late)
    extension = services.extension_request(
        actor=User.objects.get(username="wc_education"),
        problem=late,
        reason="人员调整，需重新安排驻村。",
        new_deadline=today - timedelta(days=10),
    )
    services.extension_decide(actor=staff, extension=extension, approve=True, comment="同意延期一次。")
    pending = listed(village, "软弱涣散整顿方案未报送", 20, -2, category="组织建设")
    services.extension_request(
        actor=secretary, problem=pending, reason="方案需经党员大会讨论。", new_deadline=today + timedelta(days=14)
    )
    services.deadlines_check(today=today)

    services.follow_up_record(
        actor=supervisor,
        organization=village,
        method="site_visit",
        date=today - timedelta(days=7),
        findings="签到表已部分补齐，会议记录本已统一。",
        problem=rectifying,
    )
    sample = services.sample_draw(actor=supervisor, root=town.parent, kinds=["village", "community"], size=5, seed=2017)
    services.follow_up_record(
        actor=supervisor,
        organization=Organization.objects.get(code=sample.chosen[0]),
        method="unannounced",
        date=today - timedelta(days=2),
        sample=sample,
        findings="暗访中，活动室正常开放，值班记录完整。",
    )
    services.visit_record(
        actor=supervisor,
        organization=neighbours[0],
        date=today - timedelta(days=12),
        answers={
            str(aspect): {"ok": aspect != Aspect.SOLVED, "note": "" if aspect != Aspect.SOLVED else "路灯问题未解决"}
            for aspect in Aspect
        },
        new_problems=[
            {
                "aspect": str(Aspect.SOLVED),
                "description": "群众反映的村道路灯问题未解决",
                "deadline": today + timedelta(days=20),
                "category": "责任落实",
            }
        ],
    )
    services.notice_issue(
        actor=staff,
        issuer=town.parent,
        prefix="吴组通字",
        year=today.year,
        title="关于部分村党组织落实“三会一课”制度不到位的通报",
        issued_on=today - timedelta(days=15),
        content="近期督导发现，个别村党组织“三会一课”记录不规范……现予通报。",
        entries=[
            {"organization": village, "points": Decimal("2"), "reason": "支委会记录缺签到表"},
            {"organization": neighbours[1], "points": Decimal("1"), "reason": "党费收缴登记不规范"},
        ],
    )
    stdout.write(f"supervision: {Problem.objects.count()} problems")
    return []


def _to_rectifying(problem, *, secretary, actor):
    """Sign for and plan a problem (the unit's secretary where there is an account)."""
    problem = services.problem_claim(actor=secretary or actor, problem=problem)
    problem = services.problem_plan(
        actor=secretary or actor,
        problem=problem,
        measures="制定整改措施并逐项落实。",
        person="村书记",
        deadline=problem.deadline,
    )
    services.rectification_record_add(
        actor=secretary or actor, problem=problem, date=timezone.localdate(), content="已按整改方案逐项落实。"
    )
    return problem
