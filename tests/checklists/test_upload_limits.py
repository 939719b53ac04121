"""Oversized uploads and too many files end as form errors, what was typed kept (issue 13, 5)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from checklists.models import Attachment, LedgerEntry, Occurrence

from .conftest import YEAR

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 200


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _post(client, issued, files):
    occurrence = Occurrence.objects.get(item__checklist=issued, item__code="Z04", index=1)
    return client.post(
        reverse("checklists:entry_create", args=[occurrence.pk]),
        {"date": f"{YEAR}-03-15", "content": "召开换届准备会", "files": files},
    )


def test_a_request_larger_than_allowed_keeps_no_file_and_shows_the_form_error(issued, people, client, settings):
    settings.UPLOAD_MAX_REQUEST_BYTES = 1024 * 1024
    client.force_login(people.secretary)
    response = _post(client, issued, [SimpleUploadedFile("现场.jpg", JPEG + b"\x00" * 1024 * 1024)])
    assert response.status_code == 200
    assert "一次提交的文件共 2 MB，超过了允许的 1 MB" in response.text
    assert "召开换届准备会" in response.text  # what was typed stays
    assert not LedgerEntry.objects.exists()
    assert not Attachment.objects.exists()


def test_the_refusal_is_decided_from_the_declared_length_before_any_file_byte_is_stored(settings, rf):
    from django.core.files.uploadhandler import StopFutureHandlers

    from config.uploads import UploadLimitHandler

    settings.UPLOAD_MAX_REQUEST_BYTES = 1000
    handler = UploadLimitHandler(rf.post("/"))
    handler.handle_raw_input(None, {}, 10_000, b"boundary")
    with pytest.raises(StopFutureHandlers):  # no later handler (memory, temporary file) sees it
        handler.new_file("files", "a.jpg", "image/jpeg", None)
    assert handler.receive_data_chunk(b"x" * 500, 0) is None  # chunks dropped
    refused = handler.file_complete(500)
    assert refused.size == 10_000
    assert refused.read() == b""


def test_a_request_within_the_limit_keeps_its_files(issued, people, client):
    client.force_login(people.secretary)
    assert _post(client, issued, [SimpleUploadedFile("现场.jpg", JPEG)]).status_code == 302
    assert Attachment.objects.count() == 1


@pytest.mark.parametrize("count", [21, 101, 150])
def test_any_number_of_files_gives_a_chinese_form_error_not_a_bare_400(issued, people, client, count):
    client.force_login(people.secretary)
    files = [SimpleUploadedFile(f"{number}.jpg", JPEG) for number in range(count)]
    response = _post(client, issued, files)
    assert response.status_code == 200
    assert "每条记录最多 20 个附件" in response.text
    assert "召开换届准备会" in response.text
    assert not LedgerEntry.objects.exists()
    assert not Attachment.objects.exists()
