"""The database holds what the supervision services promise (issue 11, point 11)."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from organizations.models import Role
from supervision import services
from supervision.models import ClosingRequest, Extension, Problem, Source, Status


def _refused(write):
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


@pytest.fixture
def problem(world, user_with_role):
    supervisor = user_with_role(Role.SUPERVISOR, world.county_a)
    return services.problem_list(
        actor=supervisor,
        organization=world.village_a1a,
        source=Source.SUPERVISION,
        category="组织生活",
        description="三会一课记录不全",
        found_on=timezone.localdate(),
        found_by="督导组",
        deadline=timezone.localdate() + timedelta(days=30),
    )


def test_one_pending_extension_per_problem(problem):
    def ask(days):
        Extension.objects.create(
            problem=problem,
            reason="r",
            deadline_before=problem.deadline,
            requested_deadline=problem.deadline + timedelta(days=days),
            requested_by=problem.listed_by,
            after_deadline=False,
        )

    ask(5)
    _refused(lambda: ask(9))
    Extension.objects.filter(problem=problem).update(decision="rejected")
    ask(9)


def test_one_pending_closing_request_per_problem(problem):
    def request():
        ClosingRequest.objects.create(problem=problem, report="报告", submitted_by=problem.listed_by)

    request()
    _refused(request)
    ClosingRequest.objects.filter(problem=problem).update(passed=False)
    request()


def test_a_closed_problem_has_its_closing_time(problem):
    _refused(lambda: Problem.objects.filter(pk=problem.pk).update(status=Status.CLOSED))
    Problem.objects.filter(pk=problem.pk).update(status=Status.CLOSED, closed_at=timezone.now())
