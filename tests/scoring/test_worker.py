import time
from decimal import Decimal

import pytest

from scoring import services
from scoring.models import JudgeSheet, RunStatus, SchemeResult, SchemeState

from .conftest import make_scheme


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_year_end_aggregation_runs_on_a_real_worker(world, towns, staff, judges, celery_worker_running):
    scheme = make_scheme(staff, world, weight_checklist=Decimal(0), weight_mass=Decimal(0), weight_panel=Decimal(100))
    services.members_add(actor=staff, scheme=scheme, organizations=list(towns.values()))
    indicator = services.indicator_add(actor=staff, scheme=scheme, code="I1", name="组织建设", max_score=Decimal(50))
    panel = services.panel_add(actor=staff, scheme=scheme, name="评委团")
    services.panel_assign(actor=staff, panel=panel, judges=judges, organizations=list(towns.values()))
    services.scheme_advance(actor=staff, scheme=scheme, to=SchemeState.SCORING)
    for sheet in JudgeSheet.objects.filter(scheme=scheme).select_related("organization"):
        score = Decimal(30 + int(sheet.organization.code[1]) * 4)  # T1 34 … T4 46
        services.sheet_save(actor=sheet.judge, sheet=sheet, scores={indicator.pk: score})
        services.sheet_submit(actor=sheet.judge, sheet=sheet)

    # when the aggregation is asked for (enqueued on commit, picked up by the worker)
    run = services.aggregation_start(actor=staff, scheme=scheme)
    for _attempt in range(300):
        run.refresh_from_db()
        if run.status != RunStatus.RUNNING:
            break
        time.sleep(0.1)

    # then the worker has ranked the towns: T4 46/50 → 92.00 first
    assert run.status == RunStatus.DONE, run.error
    results = {r.organization.code: (r.total, r.rank) for r in SchemeResult.objects.select_related("organization")}
    assert results == {
        "T1": (Decimal("68.00"), 4),
        "T2": (Decimal("76.00"), 3),
        "T3": (Decimal("84.00"), 2),
        "T4": (Decimal("92.00"), 1),
    }
    scheme.refresh_from_db()
    assert scheme.state == SchemeState.AGGREGATED
