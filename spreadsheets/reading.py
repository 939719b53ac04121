"""Reading workbooks people upload: refuse dangerous files before parsing, then stream rows.

Limits are DESIGN.md section 7's defaults, settings an administrator can change. openpyxl
parses through defusedxml (installed), in read-only mode, so memory does not hold the XML.
"""

import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import load_workbook


class WorkbookRefused(Exception):
    """The file is refused as a whole, before any row is read. The message is for the user."""


@dataclass(frozen=True)
class Limits:
    file_bytes: int
    rows: int
    columns: int
    uncompressed_bytes: int

    @classmethod
    def from_settings(cls):
        return cls(
            file_bytes=settings.SPREADSHEET_MAX_FILE_BYTES,
            rows=settings.SPREADSHEET_MAX_ROWS,
            columns=settings.SPREADSHEET_MAX_COLUMNS,
            uncompressed_bytes=settings.SPREADSHEET_MAX_UNCOMPRESSED_BYTES,
        )


def _megabytes(size):
    return f"{size / 1024 / 1024:.0f} MB"


def check_upload(file, *, name, limits=None):
    """Refuse, before parsing, what is not an .xlsx, too big, or would expand too far.

    `file` is a binary file object positioned anywhere; it is left at position 0.
    Python's zipfile stops reading a member at its declared size, so the declared sizes
    bound what parsing can expand to.
    """
    limits = limits or Limits.from_settings()
    if not name.lower().endswith(".xlsx"):
        raise WorkbookRefused(_("Only Excel workbooks (.xlsx) can be imported; save the file as .xlsx and try again."))
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    if size > limits.file_bytes:
        raise WorkbookRefused(
            _("The file is %(size)s; at most %(limit)s may be imported.")
            % {"size": _megabytes(size), "limit": _megabytes(limits.file_bytes)}
        )
    try:
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
            expanded = sum(member.file_size for member in members)
            names = {member.filename for member in members}
    except (zipfile.BadZipFile, OSError) as error:
        raise WorkbookRefused(_("The file is not a valid .xlsx workbook (it may be damaged).")) from error
    finally:
        file.seek(0)
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/worksheets/") for n in names):
        raise WorkbookRefused(_("The file is not a valid .xlsx workbook (it may be damaged)."))
    if expanded > limits.uncompressed_bytes:
        raise WorkbookRefused(
            _("The workbook would expand to %(size)s; at most %(limit)s is allowed.")
            % {"size": _megabytes(expanded), "limit": _megabytes(limits.uncompressed_bytes)}
        )


def open_workbook(file):
    """Open an already checked workbook for streaming: read-only, formulas kept as formulas."""
    try:
        return load_workbook(file, read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds for a damaged package
        raise WorkbookRefused(_("The file is not a valid .xlsx workbook (it may be damaged).")) from error


# --- cells -------------------------------------------------------------------------------

SPACES = re.compile(r"\s+")
DATE_TEXT = [
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
]


class CellError(ValueError):
    """A cell's value is unusable; the message is for the user."""


def is_formula(cell):
    return getattr(cell, "data_type", None) == "f"


def cell_text(value, *, normalize=False):
    """Text with stray spaces (also full-width ones) trimmed. `normalize` also folds
    full-width digits and letters to ASCII (NFKC) and drops inner spaces: for codes, phone
    numbers and fixed values, never for names, whose punctuation must survive a round trip."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).replace("\u3000", " ").strip()
    if normalize:
        text = SPACES.sub("", unicodedata.normalize("NFKC", text))
    return text


def cell_date(value):
    """An Excel date, or text such as 2017-03-10, 2017/3/10 or 2017年3月10日 (DESIGN.md 7)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value, normalize=True)
    for pattern in DATE_TEXT:
        match = pattern.match(text)
        if match:
            try:
                return date(*(int(part) for part in match.groups()))
            except ValueError:
                break
    raise CellError(
        _("「%(value)s」 is not a date; write it like 2017-03-10, 2017/3/10 or 2017年3月10日.") % {"value": text}
    )
