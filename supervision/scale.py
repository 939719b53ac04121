"""The problems of a province-sized year (seed_scale; organizations.scale explains the method):
one for every fifth village and every town, listed by the county, in every state — a third
closed, some overdue."""

from django.utils import timezone

from organizations.scale import COUNTY_PATH, PREFIX, analyze, insert_select, record_history

from .models import Problem

STATUSES = ["listed", "claimed", "rectifying", "submitted", "closed", "closed"]


def build(spec, stdout):
    today = timezone.localdate()
    status = "(ARRAY[{}])[1 + o.id %% {}]".format(", ".join(f"'{s}'" for s in STATUSES), len(STATUSES))
    insert_select(
        Problem,
        f"""FROM organizations_organization o
            JOIN organizations_organization county ON county.path = substr(o.path, 1, {COUNTY_PATH})
            JOIN organizations_user staff ON staff.username = 'scale-staff-' || lower(county.code)
            JOIN organizations_user own ON own.username = 'scale-' || lower(o.code)
            WHERE o.code LIKE '{PREFIX}%%' AND (o.kind = 'town' OR (o.kind = 'village' AND o.id %% 5 = 0))""",
        organization_id="o.id",
        responsible_unit_id="o.id",
        year=str(today.year),
        source="'supervision'",
        category="'组织生活'",
        description="'三会一课记录不全，党员学习不经常'",
        found_on=f"DATE '{today}' - (o.id %% 200)::int",
        found_by="'县委组织部督查组'",
        original_deadline=f"DATE '{today}' - (o.id %% 200)::int + 60",
        deadline=f"DATE '{today}' - (o.id %% 200)::int + 60",
        status=status,
        listed_by_id="staff.id",
        claimed_by_id=f"CASE WHEN {status} <> 'listed' THEN own.id END",
        claimed_at=f"CASE WHEN {status} <> 'listed' THEN now() END",
        closed_at=f"CASE WHEN {status} = 'closed' THEN now() END",
    )
    record_history(
        Problem,
        f"r.organization_id IN (SELECT id FROM organizations_organization WHERE code LIKE '{PREFIX}%%')",
        reason="listed",
    )
    analyze(Problem, Problem.history.model)
    stdout.write(f"  问题 {Problem.objects.filter(organization__code__startswith=PREFIX).count():,} 个")
