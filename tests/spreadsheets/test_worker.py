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


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_upload_is_checked_by_the_worker_not_by_the_request(celery_worker_running):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from spreadsheets.models import ImportJob
    from spreadsheets.services import import_job_create

    from .workbooks import organizations, workbook_bytes

    county = OrganizationFactory(code="W", kind="county", party_type="committee")
    user = UserFactory()
    RoleAssignmentFactory(user=user, organization=county, role=Role.STAFF)
    upload = SimpleUploadedFile("组织.xlsx", workbook_bytes(organizations(["W1", "新村", "村", "党支部", "W"])).read())

    # the request only stores the file and enqueues the check; the worker checks it
    job = import_job_create(actor=user, upload=upload)

    for _attempt in range(300):
        job.refresh_from_db()
        if not job.in_progress:
            break
        time.sleep(0.1)
    assert job.status == ImportJob.Status.VALID, job.message
    assert job.plans[0]["created"] == 1
