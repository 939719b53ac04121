import time

import pytest

from organizations.models import Role
from spreadsheets.models import ExportJob
from spreadsheets.services import export_job_create
from tests.organizations.factories import OrganizationFactory, RoleAssignmentFactory, UserFactory


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_export_job_runs_on_a_real_worker(celery_worker_running):
    # given a user who may see a county of 30 organizations
    county = OrganizationFactory(code="W", kind="county", party_type="committee")
    for index in range(29):
        OrganizationFactory(code=f"W{index:02d}", parent=county)
    user = UserFactory()
    RoleAssignmentFactory(user=user, organization=county, role=Role.VIEWER)

    # when the export is requested (enqueued on commit, picked up by the worker)
    job = export_job_create(actor=user, kind="organizations", params={"org": "W"})

    # then the worker writes it
    for _attempt in range(300):
        job.refresh_from_db()
        if not job.in_progress:
            break
        time.sleep(0.1)
    assert (job.status, job.progress, job.total) == (ExportJob.Status.DONE, 30, 30)
    assert job.file.size > 0
