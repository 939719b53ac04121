"""The year-end assessment of a province-sized year (seed_scale; organizations.scale explains
the method): per county a scheme over its towns (checklist completion from the town template,
panel scoring, quarterly results left out), 15 judges on one panel, 20 indicators of 5 points,
every sheet submitted — 480,000 judge scores at a province."""

from django.utils import timezone

from organizations.models import RoleAssignment
from organizations.scale import PREFIX, analyze, insert_select, insert_users

from .models import Indicator, JudgeScore, JudgeSheet, Panel, Scheme, SchemeMember

JUDGES, INDICATORS = 15, 20


def build(spec, stdout):
    today = timezone.localdate()
    counties = f"o.kind = 'county' AND o.code LIKE '{PREFIX}%%'"
    insert_users(
        f"FROM organizations_organization o CROSS JOIN generate_series(1, %s) AS n WHERE {counties}",
        [JUDGES],
        username="'scale-judge-' || lower(o.code) || '-' || n",
        full_name="'评委' || o.code || '-' || n",
    )
    insert_select(
        RoleAssignment,
        "FROM organizations_user u WHERE u.username LIKE 'scale-judge-%%'",
        user_id="u.id",
        organization_id="u.organization_id",
        role="'judge'",
    )
    insert_select(
        Scheme,
        f"""FROM organizations_organization o
            JOIN organizations_user staff ON staff.username = 'scale-staff-' || lower(o.code)
            JOIN checklists_checklisttemplate t ON t.owner_id = o.id AND t.name LIKE '镇级%%'
            WHERE {counties}""",
        year=str(today.year),
        owner_id="o.id",
        name="'镇级党建工作量化考核'",
        state="'scoring'",
        checklist_template_id="t.id",
        scoring_date=f"DATE '{today}'",
        thresholds="'[90, 80, 60]'::jsonb",
        created_by_id="staff.id",
    )
    schemes = "scoring_scheme s JOIN organizations_organization o ON o.id = s.owner_id"
    ours = f"o.code LIKE '{PREFIX}%%'"
    insert_select(
        SchemeMember,
        f"FROM {schemes} JOIN organizations_organization town ON town.parent_id = o.id WHERE {ours}",
        scheme_id="s.id",
        organization_id="town.id",
    )
    insert_select(
        Indicator,
        f"FROM {schemes} CROSS JOIN generate_series(1, %s) AS n WHERE {ours}",
        [INDICATORS],
        scheme_id="s.id",
        code="'I' || lpad(n::text, 2, '0')",
        name="'考核指标' || n",
        max_score="5",
        guide="'按评分标准打分'",
        position="n",
    )
    insert_select(Panel, f"FROM {schemes} WHERE {ours}", scheme_id="s.id", name="'评委团'")
    panels = f"scoring_panel p JOIN {schemes} ON s.id = p.scheme_id"
    insert_select(
        Panel.judges.through,
        f"FROM {panels} JOIN organizations_user u ON u.username LIKE %s || lower(o.code) || %s WHERE {ours}",
        ["scale-judge-", "-%"],
        panel_id="p.id",
        user_id="u.id",
    )
    insert_select(
        Panel.organizations.through,
        f"FROM {panels} JOIN scoring_schememember m ON m.scheme_id = s.id WHERE {ours}",
        panel_id="p.id",
        organization_id="m.organization_id",
    )
    analyze(Scheme, SchemeMember, Indicator, Panel, Panel.judges.through, Panel.organizations.through)
    insert_select(
        JudgeSheet,
        """FROM scoring_panel p
           JOIN scoring_panel_judges j ON j.panel_id = p.id
           JOIN scoring_panel_organizations po ON po.panel_id = p.id
           JOIN scoring_scheme s ON s.id = p.scheme_id
           JOIN organizations_organization o ON o.id = s.owner_id
           WHERE o.code LIKE %s""",
        [f"{PREFIX}%"],
        scheme_id="p.scheme_id",
        panel_id="p.id",
        judge_id="j.user_id",
        organization_id="po.organization_id",
        status="'submitted'",
        submitted_at="now()",
    )
    analyze(JudgeSheet)
    # Scores in halves from 2 to 5, each judge with a bias and each town with its own level.
    insert_select(
        JudgeScore,
        """FROM scoring_judgesheet sh JOIN scoring_indicator i ON i.scheme_id = sh.scheme_id
           JOIN scoring_scheme s ON s.id = sh.scheme_id JOIN organizations_organization o ON o.id = s.owner_id
           WHERE o.code LIKE %s""",
        [f"{PREFIX}%"],
        sheet_id="sh.id",
        indicator_id="i.id",
        score="LEAST(5, GREATEST(2, ROUND(((3 + (sh.organization_id %% 7) * 0.25 + (sh.judge_id %% 5) * 0.1"
        " + ((sh.id * 31 + i.id * 17) %% 10) * 0.1 - 0.5) * 2)::numeric) / 2))",
    )
    analyze(JudgeScore)
    stdout.write(
        f"  考核方案 {Scheme.objects.filter(owner__code__startswith=PREFIX).count():,} 个，"
        f"评委评分 {JudgeScore.objects.filter(sheet__scheme__owner__code__startswith=PREFIX).count():,} 条"
    )
