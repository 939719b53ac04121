"""Reading workbooks people upload: refuse dangerous files before parsing, then stream rows.

Limits are DESIGN.md section 7's defaults, settings an administrator can change. Workbooks
come as offices make them: .xlsx from Excel, WPS or LibreOffice, old .xls, and CSV in UTF-8 or
GB18030. Every format is read through `open_workbook`, which gives the same `Book` of sheets
of rows of cells, within the same limits:

- .xlsx: openpyxl in read-only mode for the workbook's parts. The sheets' rows and the shared
  strings (which openpyxl would load whole) are read here, streaming, with the C XML parser
  after a scan that refuses any DTD (`xml_events`: openpyxl parses through defusedxml's
  pure-Python parser, a Python call per element). Shared strings and styles are refused past
  a number and a total size; every check has a time limit.
- .xls: xlrd, after the file's declared number of shared strings is checked.
- .csv: decoded as UTF-8, else GB18030 (what Excel in China writes), delimiter detected.
"""

import csv
import io
import re
import struct
import time
import unicodedata
import zipfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath
from xml.etree.ElementTree import ParseError, XMLPullParser

from defusedxml import DefusedXmlException
from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse as defused_iterparse


class WorkbookRefused(Exception):
    """The file is refused as a whole, before any row is read. The message is for the user."""


def _damaged():
    return WorkbookRefused(_("The file is not a valid .xlsx workbook (it may be damaged)."))


@dataclass(frozen=True)
class Limits:
    file_bytes: int
    rows: int
    columns: int
    uncompressed_bytes: int
    strings: int = 1_000_000  # shared strings of an .xlsx (or .xls)
    string_chars: int = 50_000_000  # their total length, and that of all text read from a sheet
    styles: int = 64_000  # cell formats (Excel's own maximum)
    seconds: int = 300  # for reading and checking the whole file

    @classmethod
    def from_settings(cls):
        return cls(
            file_bytes=settings.SPREADSHEET_MAX_FILE_BYTES,
            rows=settings.SPREADSHEET_MAX_ROWS,
            columns=settings.SPREADSHEET_MAX_COLUMNS,
            uncompressed_bytes=settings.SPREADSHEET_MAX_UNCOMPRESSED_BYTES,
            strings=settings.SPREADSHEET_MAX_STRINGS,
            string_chars=settings.SPREADSHEET_MAX_STRING_CHARS,
            styles=settings.SPREADSHEET_MAX_STYLES,
            seconds=settings.SPREADSHEET_CHECK_SECONDS,
        )


def _megabytes(size):
    return f"{size / 1024 / 1024:.0f} MB"


XLSX, XLS, CSV = "xlsx", "xls", "csv"
EXTENSIONS = {".xlsx": XLSX, ".xlsm": XLSX, ".xls": XLS, ".csv": CSV}
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _save_as_xlsx():
    return _(
        "Save it as .xlsx and upload it again: in Excel, 文件 › 另存为 › 保存类型 "
        "「Excel 工作簿(*.xlsx)」; in WPS, 文件 › 另存为 › 文件类型 「Microsoft Excel 文件(*.xlsx)」."
    )


def file_format(file, name):
    """The format of an upload from its content (a .xls that is really an .xlsx is read as one),
    the name deciding only for text files. Leaves `file` at position 0."""
    file.seek(0)
    head = file.read(8)
    file.seek(0)
    suffix = PurePath(name).suffix.lower()
    if suffix == ".ods":
        raise WorkbookRefused(
            _("OpenDocument spreadsheets (.ods) cannot be imported. %(how)s") % {"how": _save_as_xlsx()}
            + " "
            + _("In LibreOffice: 文件 › 另存为 › 文件类型 「Excel 2007-365 (.xlsx)」.")
        )
    if suffix not in EXTENSIONS:
        raise WorkbookRefused(
            _("Only Excel workbooks (.xlsx or .xls) and CSV files can be imported. %(how)s") % {"how": _save_as_xlsx()}
        )
    if head.startswith(b"PK"):
        return XLSX
    if head == OLE2_MAGIC:
        return XLS
    if suffix == ".csv":
        return CSV
    raise _damaged()


def check_upload(file, *, name, limits=None):
    """Refuse, before parsing, what is not a workbook, too big, or would expand too far.

    Cheap enough for a web request: it reads the zip directory, never the sheets. `file` is a
    binary file object positioned anywhere; it is left at position 0. Python's zipfile stops
    reading a member at its declared size, so the declared sizes bound what parsing can expand
    to. Returns the format (XLSX, XLS or CSV).
    """
    limits = limits or Limits.from_settings()
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    if size > limits.file_bytes:
        raise WorkbookRefused(
            _("The file is %(size)s; at most %(limit)s may be imported.")
            % {"size": _megabytes(size), "limit": _megabytes(limits.file_bytes)}
        )
    kind = file_format(file, name)
    if kind != XLSX:
        return kind
    try:
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
            expanded = sum(member.file_size for member in members)
            names = {member.filename for member in members}
    except (zipfile.BadZipFile, OSError) as error:
        raise _damaged() from error
    finally:
        file.seek(0)
    if "mimetype" in names and "[Content_Types].xml" not in names:  # an .ods renamed
        raise WorkbookRefused(
            _("OpenDocument spreadsheets (.ods) cannot be imported. %(how)s") % {"how": _save_as_xlsx()}
        )
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/worksheets/") for n in names):
        raise _damaged()
    if expanded > limits.uncompressed_bytes:
        raise WorkbookRefused(
            _("The workbook would expand to %(size)s; at most %(limit)s is allowed.")
            % {"size": _megabytes(expanded), "limit": _megabytes(limits.uncompressed_bytes)}
        )
    return kind


# --- books: the same rows from every format ------------------------------------------------


class Cell:
    """A cell as the checks see it: a value and openpyxl's data type (f for a formula)."""

    __slots__ = ("data_type", "value")

    def __init__(self, value, data_type="s"):
        self.value = value
        self.data_type = data_type


EMPTY = Cell(None, "n")


class Deadline:
    def __init__(self, seconds):
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def check(self):
        if time.monotonic() > self.ends:
            raise WorkbookRefused(
                _(
                    "Checking the file took longer than %(seconds)s seconds and was stopped. "
                    "Split it into smaller files, or save it again as a plain .xlsx."
                )
                % {"seconds": self.seconds}
            )


class Book(ABC):
    """Sheets by name, each read as rows of cells (lists), numbered as the file shows them.
    Each file format (.xlsx, .xls, .csv) is a subclass that reads its rows."""

    def __init__(self, limits, deadline):
        self.limits = limits
        self.deadline = deadline
        self.text_chars = 0

    sheetnames: list = []

    @abstractmethod
    def rows(self, name):
        """The sheet's rows of cells, as the file numbers them."""

    def close(self):  # noqa: B027 - a format with nothing open keeps this
        """Let go of the file; formats that hold one open override it."""

    def count_text(self, cells):
        """Bound the text read from all sheets (inline strings are not shared strings)."""
        for cell in cells:
            if isinstance(cell.value, str):
                self.text_chars += len(cell.value)
        if self.text_chars > self.limits.string_chars:
            raise WorkbookRefused(_("The workbook holds more text than can be imported at once; split it."))


STRING_TAG = f"{{{SHEET_MAIN_NS}}}si"
TEXT_TAG = f"{{{SHEET_MAIN_NS}}}t"
RUN_TAG = f"{{{SHEET_MAIN_NS}}}r"
ROW_TAG = f"{{{SHEET_MAIN_NS}}}row"
SHEET_DATA_TAG = f"{{{SHEET_MAIN_NS}}}sheetData"
INLINE_STRING_TAG = f"{{{SHEET_MAIN_NS}}}is"
FORMULA_TAG = f"{{{SHEET_MAIN_NS}}}f"
STYLE_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?xf[\s/>]")
# What defusedxml exists to stop: a document type declaring entities (billion laughs, external
# files). Excel, WPS and LibreOffice never write one in a workbook's parts.
DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)")


def xml_events(source, events=("end",)):
    """(event, element) of an XML part read from `source`, streaming, through the C parser,
    after each chunk is scanned for a DTD, which is refused: Expat (2.4.1 and later) bounds
    entity expansion by itself, and a part with no DTD declares no entity at all. A part in an
    encoding the scan cannot read (UTF-16) goes through openpyxl's defusedxml parser instead."""
    head = source.peek(4)[:4] if hasattr(source, "peek") else b""
    if b"\x00" in head or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            yield from defused_iterparse(source, events=events)
        except (ParseError, DefusedXmlException) as error:
            raise _damaged() from error
        return
    parser = XMLPullParser(events=events)
    tail = b""
    try:
        while chunk := source.read(1 << 16):
            if DECLARATION.search(tail + chunk):
                raise _damaged()
            tail = chunk[-16:]
            parser.feed(chunk)
            yield from parser.read_events()
        parser.close()
    except ParseError as error:
        raise _damaged() from error
    yield from parser.read_events()


def _text(node):
    """The text of a shared or inline string: its plain text and that of its runs."""
    if len(node) == 1 and node[0].tag == TEXT_TAG:  # plain text, the usual case
        return node[0].text or ""
    parts = [node.findtext(TEXT_TAG) or ""]
    parts.extend(run.findtext(TEXT_TAG) or "" for run in node.iterfind(RUN_TAG))
    return "".join(parts)


def _too_many_strings(limits):
    return WorkbookRefused(
        _("The workbook has more than %(limit)s different texts; at most %(limit)s can be imported at once.")
        % {"limit": f"{limits.strings:,}"}
    )


def read_shared_strings(source, limits, deadline):
    """The shared strings of an .xlsx, streaming, refused past limits.strings strings or
    limits.string_chars characters: a few hundred KB zipped can declare millions of them."""
    strings = []
    chars = 0
    root = None
    for event, node in xml_events(source, events=("start", "end")):
        if root is None:
            root = node
            declared = node.get("uniqueCount") or node.get("count") or "0"
            if declared.isdigit() and int(declared) > limits.strings and node.get("uniqueCount"):
                raise _too_many_strings(limits)
            continue
        if event != "end" or node.tag != STRING_TAG:
            continue
        text = _text(node).replace("x005F_", "")
        root.clear()  # drop what was read: memory holds only the strings
        strings.append(text)
        chars += len(text)
        if len(strings) > limits.strings:
            raise _too_many_strings(limits)
        if chars > limits.string_chars:
            raise WorkbookRefused(_("The workbook holds more text than can be imported at once; split it."))
        if len(strings) % 20000 == 0:
            deadline.check()
    return strings


class _Sheet(ReadOnlyWorksheet):
    """A read-only sheet that does not read itself for its size when it is opened: openpyxl
    parses a whole sheet that gives no <dimension> (its own writer gives none) only to learn
    that. XlsxBook.rows reads the rows."""

    def _get_size(self):
        pass


class _RowParser(WorkSheetParser):
    """openpyxl's cell parsing (types, dates by their formats, shared strings, formulas), with
    inline strings read directly instead of through openpyxl's rich text objects."""

    def parse_cell(self, element):
        if element.get("t") != "inlineStr" or element.find(FORMULA_TAG) is not None:
            return super().parse_cell(element)
        # openpyxl's parse_cell for an inline string, but for its text
        coordinate = element.get("r")
        if coordinate:
            row, column = coordinate_to_tuple(coordinate)
            self.col_counter = column
        else:
            self.col_counter += 1
            row, column = self.row_counter, self.col_counter
        style_id = element.get("s", 0)
        inline = element.find(INLINE_STRING_TAG)
        return {
            "row": row,
            "column": column,
            "value": None if inline is None else _text(inline),
            "data_type": "inlineStr" if inline is None else "s",
            "style_id": int(style_id) if style_id else 0,
        }


class _Reader(ExcelReader):
    """openpyxl's reader with the shared strings read by read_shared_strings and the sheets
    opened as _Sheet."""

    def __init__(self, file, limits, deadline):
        super().__init__(file, read_only=True, keep_vba=False, data_only=False, keep_links=False)
        self.limits, self.deadline = limits, deadline

    def read_strings(self):
        part = self.package.find(SHARED_STRINGS)
        if part is not None:
            with self.archive.open(part.PartName[1:]) as source:
                self.shared_strings = read_shared_strings(source, self.limits, self.deadline)

    def read_worksheets(self):
        # openpyxl's read-only branch of read_worksheets, with _Sheet
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files:
                continue
            if "chartsheet" in rel.Type:
                self.read_chartsheet(sheet, rel)
                continue
            worksheet = _Sheet(self.wb, sheet.name, rel.target, self.shared_strings)
            worksheet.sheet_state = sheet.state
            self.wb._sheets.append(worksheet)


STRING_ITEM = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")


def _count_tags(archive, part, pattern, limit, refusal, deadline):
    """Count the elements of a part with a byte pattern, in chunks, refusing past `limit`:
    seconds for a part that would take minutes to parse. (A part stored under another name
    is still bounded by read_shared_strings, only more slowly.)"""
    name = next((n for n in archive.namelist() if n.lower() == part), None)
    if name is None:
        return
    count, tail = 0, b""
    with archive.open(name) as source:
        while chunk := source.read(1 << 20):
            data = tail + chunk
            tail = data[-32:]
            count += len(pattern.findall(data)) - len(pattern.findall(tail))  # the tail is searched again
            if count > limit:
                raise refusal()
            deadline.check()


def _styles_refusal(limits):
    return lambda: WorkbookRefused(
        _("The workbook has more than %(limit)s cell formats; save it again as a plain .xlsx.")
        % {"limit": f"{limits.styles:,}"}
    )


class XlsxBook(Book):
    def __init__(self, file, limits, deadline):
        super().__init__(limits, deadline)
        try:
            with zipfile.ZipFile(file) as archive:
                _count_tags(archive, "xl/styles.xml", STYLE_TAG, limits.styles, _styles_refusal(limits), deadline)
                strings = lambda: _too_many_strings(limits)  # noqa: E731
                _count_tags(archive, "xl/sharedstrings.xml", STRING_ITEM, limits.strings, strings, deadline)
            file.seek(0)
            reader = _Reader(file, limits, deadline)
            reader.read()
        except WorkbookRefused:
            raise
        except Exception as error:  # openpyxl raises many kinds for a damaged package
            raise _damaged() from error
        self.workbook = reader.wb
        self.sheetnames = list(self.workbook.sheetnames)

    def rows(self, name):
        """The rows as openpyxl's iter_rows gives them (a missing row as an empty one, a missing
        cell as an empty one), each as far as its last cell. Columns are counted by their values
        (in the checks): styled empty columns do not count."""
        sheet = self.workbook[name]
        parser = _RowParser(
            None,
            sheet._shared_strings,
            data_only=False,
            epoch=self.workbook.epoch,
            date_formats=self.workbook._date_formats,
            timedelta_formats=self.workbook._timedelta_formats,
        )
        number = 0
        sheet_data = None
        with sheet._get_source() as source:
            for event, element in xml_events(source, events=("start", "end")):
                if event == "start":
                    if element.tag == SHEET_DATA_TAG:
                        sheet_data = element
                    continue
                if element.tag != ROW_TAG:
                    continue
                try:
                    index, parsed = parser.parse_row(element)
                except (ValueError, IndexError, KeyError, TypeError) as error:
                    raise _damaged() from error  # e.g. a shared string that is not there
                if sheet_data is not None:
                    sheet_data.clear()  # the rows read so far: memory holds one row
                if index <= number:
                    continue  # a row again, or out of order: openpyxl skips it too
                while number < index - 1:
                    number += 1
                    yield number, []
                number = index
                cells = []
                for cell in parsed:
                    column = cell["column"]
                    if column < 1:
                        continue
                    if column > len(cells):
                        cells.extend(EMPTY for _gap in range(column - len(cells)))
                    cells[column - 1] = Cell(cell["value"], cell["data_type"])
                yield number, cells

    def close(self):
        self.workbook.close()


def _xls_declared_strings(data):
    """The number of different texts an .xls declares (its SST record), read before xlrd
    loads them all."""
    from xlrd import compdoc

    document = compdoc.CompDoc(data, logfile=io.StringIO())
    for stream_name in ("Workbook", "Book"):
        stream, base, size = document.locate_named_stream(stream_name)
        if stream is not None:
            break
    else:
        return 0
    position, end = base, base + size
    while position + 4 <= end:
        kind, length = struct.unpack_from("<HH", stream, position)
        if kind == 0x00FC and length >= 8:  # SST: total count, unique count
            return struct.unpack_from("<ii", stream, position + 4)[1]
        if kind == 0x000A:  # EOF of the workbook globals: no SST
            return 0
        position += 4 + length
    return 0


class XlsBook(Book):
    def __init__(self, file, limits, deadline):
        super().__init__(limits, deadline)
        import xlrd

        data = file.read()
        try:
            if _xls_declared_strings(data) > limits.strings:
                raise _too_many_strings(limits)
            self.workbook = xlrd.open_workbook(file_contents=data, on_demand=True, logfile=io.StringIO())
        except WorkbookRefused:
            raise
        except Exception as error:
            raise WorkbookRefused(
                _("The file is not a valid .xls workbook (it may be damaged). %(how)s") % {"how": _save_as_xlsx()}
            ) from error
        self.sheetnames = list(self.workbook.sheet_names())

    def rows(self, name):

        sheet = self.workbook.sheet_by_name(name)
        for index in range(sheet.nrows):
            yield index + 1, [self._cell(cell) for cell in sheet.row(index)]

    def _cell(self, cell):
        import xlrd

        if cell.ctype == xlrd.XL_CELL_DATE:
            try:
                return Cell(xlrd.xldate_as_datetime(cell.value, self.workbook.datemode), "d")
            except Exception:
                return Cell(cell.value, "n")
        if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
            return Cell(None, "n")
        if cell.ctype == xlrd.XL_CELL_NUMBER:
            return Cell(cell.value, "n")
        if cell.ctype == xlrd.XL_CELL_BOOLEAN:
            return Cell(bool(cell.value), "b")
        return Cell(cell.value, "s")

    def close(self):
        self.workbook.release_resources()


class CsvBook(Book):
    """One sheet, named after the file (as Excel names it when it opens a CSV)."""

    def __init__(self, file, name, limits, deadline):
        super().__init__(limits, deadline)
        data = file.read()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                self.text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise WorkbookRefused(
                _("The CSV file is neither UTF-8 nor GB18030 text. %(how)s") % {"how": _save_as_xlsx()}
            )
        self.sheetnames = [PurePath(name).stem.strip() or "Sheet1"]

    def rows(self, name):
        sample = self.text[:8192]
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
        except csv.Error:
            dialect = csv.excel
        for number, record in enumerate(csv.reader(io.StringIO(self.text, newline=""), dialect), start=1):
            if len(record) > self.limits.columns and any(value.strip() for value in record[self.limits.columns :]):
                raise too_many_columns(name, self.limits)
            yield number, [Cell(value if value != "" else None) for value in record]


def too_many_columns(name, limits):
    return WorkbookRefused(
        _("The sheet %(sheet)s has more than %(limit)s columns.") % {"sheet": name, "limit": limits.columns}
    )


def open_workbook(file, *, name="upload.xlsx", limits=None):
    """Open an already checked upload for streaming, whatever its format. Formulas stay formulas
    (data type f) so that the checks can refuse them."""
    limits = limits or Limits.from_settings()
    deadline = Deadline(limits.seconds)
    file.seek(0)
    kind = file_format(file, name)
    if kind == XLSX:
        return XlsxBook(file, limits, deadline)
    if kind == XLS:
        return XlsBook(file, limits, deadline)
    return CsvBook(file, name, limits, deadline)


# --- cells -------------------------------------------------------------------------------

SPACES = re.compile(r"\s+")
TIME_OF_DAY = r"(?:[ T]+0{1,2}:00(?::00(?:\.0+)?)?)?"
DATE_TEXT = [
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})" + TIME_OF_DAY + "$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})" + TIME_OF_DAY + "$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})" + TIME_OF_DAY + "$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日" + TIME_OF_DAY + "$"),
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


def as_typed(value):
    """A value as the user typed it, for quoting in a message."""
    return cell_text(value)


def cell_date(value):
    """An Excel date, or text such as 2017-03-10, 2017/3/10, 2017.3.10, 20170310 or 2017年3月10日,
    a time of 00:00:00 after it ignored (DESIGN.md 7)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = unicodedata.normalize("NFKC", cell_text(value)).strip()
    text = SPACES.sub(" ", text)
    for pattern in DATE_TEXT:
        match = pattern.match(text) or pattern.match(text.replace(" ", ""))
        if match:
            try:
                return date(*(int(part) for part in match.groups()))
            except ValueError:
                break
    raise CellError(
        _("「%(value)s」 is not a date; write it like 2017-03-10, 2017/3/10, 2017.3.10 or 2017年3月10日.")
        % {"value": as_typed(value)}
    )


PHONE_PUNCTUATION = re.compile(r"[\s\-–—－()（）.]")


def cell_phone(value):
    """A mobile phone number as typed, with spaces, dashes, brackets and a +86 / 0086 prefix
    dropped: 139-1121-4732 and +86 139 1121 4732 are 13911214732."""
    text = PHONE_PUNCTUATION.sub("", cell_text(value, normalize=True))
    for prefix in ("+86", "0086", "86"):
        if text.startswith(prefix) and len(text) == len(prefix) + 11:
            return text[len(prefix) :]
    return text
