"""The checklists of a province-sized year (seed_scale; organizations.scale explains the method).

Per county two templates of 30 items (villages; towns), issued to every village and town of
the county: 6 monthly, 6 quarterly, 4 half-yearly and 14 yearly items, 118 occurrences per
checklist (≈3.5 million at a province). Occurrences whose deadline has passed are done in
about 88 % of cases (1 in 9 of them late, submitted after the deadline), each with its approved
ledger entry; a few of this month's are submitted and wait for review.
"""

from django.db import connection, transaction
from django.utils import timezone

from organizations.scale import COUNTY_PATH, PREFIX, analyze, insert_select, record_history

from . import services
from .models import Checklist as ChecklistModel
from .models import ChecklistItem, ChecklistTemplate, LedgerEntry, Occurrence, ProgressCount, TemplateItem

ITEMS = 30
TEMPLATES = [("村", "village", "branch"), ("镇", "town", "committee")]


def build(spec, stdout):
    today = timezone.localdate()
    year = today.year
    for label, _kind, party_type in TEMPLATES:
        insert_select(
            ChecklistTemplate,
            f"FROM organizations_organization o WHERE o.kind = 'county' AND o.code LIKE '{PREFIX}%%'",
            owner_id="o.id",
            year=str(year),
            name=f"'{label}级党组织书记抓党建责任清单'",
            target_types=f"'[\"{party_type}\"]'::jsonb",
        )
    frequency = (
        "CASE WHEN p <= 6 THEN 'monthly' WHEN p <= 12 THEN 'quarterly' WHEN p <= 16 THEN 'half_yearly' "
        "ELSE 'yearly' END"
    )
    insert_select(
        TemplateItem,
        "FROM checklists_checklisttemplate t JOIN organizations_organization o ON o.id = t.owner_id "
        f"CROSS JOIN generate_series(1, {ITEMS}) AS p WHERE o.code LIKE '{PREFIX}%%'",
        template_id="t.id",
        code="'A' || lpad(p::text, 2, '0')",
        category="CASE WHEN p <= 10 THEN '组织建设' WHEN p <= 20 THEN '党员管理' ELSE '基层治理' END",
        title="'工作事项' || p",
        requirement="'按要求完成工作事项' || p",
        frequency=frequency,
        deadline=f"CASE WHEN p > 16 THEN (make_date({year}, 1 + p %% 12, 1) + interval '1 month - 1 day')::date END",
        score="CASE WHEN p <= 10 THEN 3 ELSE 3.5 END",
        position="p",
    )
    analyze(ChecklistTemplate, TemplateItem)
    # The village template goes to the county's villages, the town template to its towns.
    for label, kind, _party_type in TEMPLATES:
        insert_select(
            ChecklistModel,
            f"""FROM organizations_organization o
                JOIN organizations_organization county ON county.path = substr(o.path, 1, {COUNTY_PATH})
                JOIN checklists_checklisttemplate t
                  ON t.owner_id = county.id AND t.name = '{label}级党组织书记抓党建责任清单'
                JOIN organizations_user u ON u.username = 'scale-' || lower(o.code)
                WHERE o.kind = '{kind}' AND o.code LIKE '{PREFIX}%%'""",
            template_id="t.id",
            organization_id="o.id",
            claim_deadline=f"make_date({year}, 1, 31)",
            claimed_at=f"CASE WHEN o.id %% 10 <> 0 THEN make_timestamptz({year}, 1, 20, 10, 0, 0) END",
            claimed_by_id="CASE WHEN o.id %% 10 <> 0 THEN u.id END",
            signature="CASE WHEN o.id %% 10 <> 0 THEN u.full_name ELSE '' END",
        )
    analyze(ChecklistModel)
    insert_select(
        ChecklistItem,
        "FROM checklists_checklist c JOIN checklists_templateitem ti ON ti.template_id = c.template_id "
        "JOIN organizations_organization o ON o.id = c.organization_id "
        f"WHERE o.code LIKE '{PREFIX}%%'",
        checklist_id="c.id",
        template_item_id="ti.id",
        code="ti.code",
        category="ti.category",
        title="ti.title",
        requirement="ti.requirement",
        evidence="ti.evidence",
        frequency="ti.frequency",
        deadline="ti.deadline",
        score="ti.score",
        meeting_kind="ti.meeting_kind",
        position="ti.position",
    )
    scale_checklists = (
        "SELECT c.id FROM checklists_checklist c JOIN organizations_organization o ON o.id = c.organization_id "
        f"WHERE o.code LIKE '{PREFIX}%%'"
    )
    record_history(ChecklistModel, f"r.id IN ({scale_checklists})", reason="issued")
    record_history(ChecklistItem, f"r.checklist_id IN ({scale_checklists})", reason="issued")
    analyze(ChecklistItem, ChecklistModel.history.model, ChecklistItem.history.model)
    # Periods: monthly 1..12, quarterly 1..4 (ending in months 3, 6, 9, 12), half-yearly 1..2;
    # yearly items end on their deadline.
    insert_select(
        Occurrence,
        f"""FROM checklists_checklistitem i
            JOIN checklists_checklist c ON c.id = i.checklist_id
            JOIN organizations_organization o ON o.id = c.organization_id
            CROSS JOIN LATERAL (
                SELECT n AS idx, n * (12 / counts.k) AS end_month, 12 / counts.k AS step
                FROM (SELECT CASE i.frequency WHEN 'monthly' THEN 12 WHEN 'quarterly' THEN 4
                                              WHEN 'half_yearly' THEN 2 ELSE 1 END AS k) counts,
                     generate_series(1, counts.k) AS n
            ) period
            WHERE o.code LIKE '{PREFIX}%%'""",
        item_id="i.id",
        index="period.idx",
        period_start=(
            f"CASE WHEN i.frequency IN ('yearly', 'once') THEN make_date({year}, 1, 1) "
            f"ELSE make_date({year}, period.end_month - period.step + 1, 1) END"
        ),
        deadline=(
            "CASE WHEN i.frequency IN ('yearly', 'once') THEN i.deadline "
            f"ELSE (make_date({year}, period.end_month, 1) + interval '1 month - 1 day')::date END"
        ),
    )
    analyze(Occurrence)
    # Work done: a ledger entry for about 88 % of what fell due, 1 in 9 of them late, approved two
    # days after it was submitted; the occurrence done at the approval.
    insert_select(
        LedgerEntry,
        f"""FROM (SELECT oc.id, oc.deadline, c.organization_id, o.path,
                         CASE WHEN ((oc.id * 7919) %% 100) >= 78 THEN oc.deadline + (1 + oc.id %% 14)::int
                              ELSE oc.deadline - (oc.id %% 20)::int END AS submitted_on
                  FROM checklists_occurrence oc
                  JOIN checklists_checklistitem i ON i.id = oc.item_id
                  JOIN checklists_checklist c ON c.id = i.checklist_id
                  JOIN organizations_organization o ON o.id = c.organization_id
                  WHERE o.code LIKE '{PREFIX}%%' AND oc.deadline < %s AND ((oc.id * 7919) %% 100) < 88) x
            JOIN organizations_user u ON u.organization_id = x.organization_id
                 AND u.username NOT LIKE 'scale-staff-%%'
            JOIN organizations_user reviewer ON reviewer.username = 'scale-staff-' || lower(substr(x.path, 12, 7))
            WHERE x.submitted_on < %s""",
        [today, today],
        occurrence_id="x.id",
        organization_id="x.organization_id",
        date="LEAST(x.submitted_on, x.deadline)",
        content="'按要求完成，记录已归档。'",
        status="'approved'",
        submitted_by_id="u.id",
        first_submitted_at="x.submitted_on::timestamptz + interval '10 hours'",
        submitted_at="x.submitted_on::timestamptz + interval '10 hours'",
        reviewed_by_id="reviewer.id",
        reviewed_at="x.submitted_on::timestamptz + interval '2 days 16 hours'",
        review_comment="''",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE checklists_occurrence oc
               SET done_at = e.reviewed_at, late = e.first_submitted_at::date > oc.deadline
               FROM checklists_ledgerentry e
               WHERE e.occurrence_id = oc.id AND e.status = 'approved' AND oc.done_at IS NULL"""
        )
    with transaction.atomic():
        services.progress_counts_refresh()  # the occurrences above were written by hand
    analyze(Occurrence, LedgerEntry, ProgressCount)
    stdout.write(
        f"  清单 {ChecklistModel.objects.filter(organization__code__startswith=PREFIX).count():,} 份，"
        f"完成时限 {Occurrence.objects.filter(item__checklist__organization__code__startswith=PREFIX).count():,} 个，"
        f"台账 {LedgerEntry.objects.filter(organization__code__startswith=PREFIX).count():,} 条"
    )
