"""Stored evidence is named from its detected type, and active PDFs are refused (issue 13, 3)."""

import zlib
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from checklists import services
from checklists.models import Attachment, LedgerEntry, Occurrence

from .conftest import YEAR

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
# A PNG whose tail is a page: served from a media folder as .html it would run the script.
PNG_WITH_SCRIPT = PNG + b"<html><script>alert(document.cookie)</script></html>"


def _pdf(*objects):
    """A small PDF made of the given object bodies (bytes), numbered from 1."""
    body = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    for number, content in enumerate(objects, start=1):
        body += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    return body + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [] /Count 0 >>"
PLAIN_PDF = _pdf(CATALOG, PAGES)


def _object_stream(dictionaries):
    data = zlib.compress(dictionaries)
    return b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(data) + (
        data + b"\nendstream"
    )


ACTIVE_PDFS = {
    "open action with JavaScript": _pdf(
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>", PAGES
    ),
    "JS name hidden with #xx escapes": _pdf(
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >> >>", PAGES
    ),
    "launch action": _pdf(b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /Launch /F (cmd.exe) >> >>", PAGES),
    "embedded file": _pdf(CATALOG, PAGES, b"<< /Type /EmbeddedFile /Length 5 >>\nstream\nMZ\x90\x00\x00\nendstream"),
    "script inside a compressed object stream": _pdf(
        CATALOG, PAGES, _object_stream(b"4 0 << /S /JavaScript /JS (app.alert(1)) >>")
    ),
    "object stream that cannot be read": _pdf(
        CATALOG,
        PAGES,
        b"<< /Type /ObjStm /N 1 /First 4 /Filter /LZWDecode /Length 4 >>\nstream\n\x80\x0b\x60\x50\nendstream",
    ),
}


def _occurrence(checklist, code="Z04"):
    return Occurrence.objects.get(item__checklist=checklist, item__code=code, index=1)


def _submit(issued, people, upload):
    return services.entry_submit(
        actor=people.secretary, occurrence=_occurrence(issued), date=date(YEAR, 3, 1), content="x", uploads=[upload]
    )


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.parametrize("name", ["照片.html", "照片.svg", "照片", "照片.png.exe"])
def test_stored_evidence_takes_the_extension_of_its_detected_type_not_the_clients(issued, people, name):
    entry = _submit(issued, people, SimpleUploadedFile(name, PNG_WITH_SCRIPT))
    attachment = entry.attachments.get()
    stored = attachment.file.name.rsplit("/", 1)[-1]
    assert stored.endswith(".png")
    assert stored.count(".") == 1
    assert attachment.original_name == name  # shown to the user and given to the download only


def test_the_download_keeps_the_original_name_and_the_detected_type(issued, people, client):
    entry = _submit(issued, people, SimpleUploadedFile("照片.html", PNG_WITH_SCRIPT))
    client.force_login(people.secretary)
    response = client.get(reverse("checklists:attachment", args=[entry.attachments.get().pk]))
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"].startswith("attachment")


def test_a_plain_pdf_is_accepted(issued, people):
    entry = _submit(issued, people, SimpleUploadedFile("纪要.pdf", PLAIN_PDF))
    assert entry.attachments.get().file.name.endswith(".pdf")


@pytest.mark.parametrize("content", ACTIVE_PDFS.values(), ids=ACTIVE_PDFS.keys())
def test_pdfs_with_scripts_actions_or_embedded_files_are_refused_and_nothing_is_written(issued, people, content):
    with pytest.raises(ValidationError, match="脚本"):
        _submit(issued, people, SimpleUploadedFile("纪要.pdf", content))
    assert not LedgerEntry.objects.exists()
    assert not Attachment.objects.exists()


def test_an_active_pdf_through_the_form_is_a_chinese_form_error_and_what_was_typed_stays(issued, people, client):
    client.force_login(people.secretary)
    response = client.post(
        reverse("checklists:entry_create", args=[_occurrence(issued).pk]),
        {
            "date": f"{YEAR}-03-15",
            "content": "召开换届准备会",
            "files": [SimpleUploadedFile("纪要.pdf", ACTIVE_PDFS["open action with JavaScript"])],
        },
    )
    assert response.status_code == 200
    assert "纪要.pdf 含有脚本" in response.text
    assert "召开换届准备会" in response.text
    assert not LedgerEntry.objects.exists()
