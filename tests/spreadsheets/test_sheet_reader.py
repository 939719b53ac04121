"""The .xlsx sheet reader (issue 10.5): rows parsed with the C XML parser after a scan that refuses
any DTD give exactly what openpyxl's own read-only iter_rows gives, for workbooks written by
openpyxl (shared strings, and inline strings in write-only mode) and by xlsxwriter (as Excel
writes: shared strings, a <dimension>, rich text), with dates, numbers, booleans, formulas, and
rows and cells left out; and a part that declares entities is refused, as defusedxml did."""

import io
import zipfile
from datetime import date, datetime

import pytest
import xlsxwriter
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from organizations.models import Person
from spreadsheets.reading import WorkbookRefused, open_workbook, xml_events
from spreadsheets.services import workbook_import

from .workbooks import people

ROWS = [
    ["姓名", "数", "日期", "是否", "公式", None, "空格后"],
    ["张三", 42, date(2024, 3, 1), True, "=B2*2", None, " 前后有空格 "],
    ["李四", 3.5, datetime(2023, 12, 31, 8, 30), False, "=SUM(B2:B3)", "", "＝全角"],
    [None, None, None, None, None, None, None],
    ["=不是公式的文本", "0012", "2024-03-01", None, None, None, "最后一格"],
]


def _openpyxl(write_only):
    workbook = Workbook(write_only=write_only)
    if not write_only:
        workbook.remove(workbook.active)
    sheet = workbook.create_sheet("表")
    for row in ROWS:
        sheet.append(row)
    if write_only:
        sheet.append([])
        sheet.append([CellRichText(["红", TextBlock(InlineFont(b=True), "字")])])
    else:
        sheet["A7"] = CellRichText(["红", TextBlock(InlineFont(b=True), "字")])
        sheet["D9"] = "隔了一行，前面空三格"
        sheet["A5"].data_type = "s"  # text that begins with =, as a user types '=…
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsxwriter():
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("表")
    dates = workbook.add_format({"num_format": "yyyy-mm-dd"})
    bold = workbook.add_format({"bold": True})
    for r, row in enumerate(ROWS):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, date):
                sheet.write_datetime(r, c, value, dates)
            elif isinstance(value, str) and value.startswith("=") and r == 4:
                sheet.write_string(r, c, value)
            else:
                sheet.write(r, c, value)
    sheet.write_rich_string(6, 0, "红", bold, "字")
    sheet.write_string(8, 3, "隔了一行，前面空三格")
    workbook.close()
    return buffer.getvalue()


SHEET = "xl/worksheets/sheet1.xml"


def _trimmed(cells):
    values = [(cell.value, cell.data_type) for cell in cells]
    while values and values[-1][0] is None:
        values.pop()
    return values


def _ours(data):
    buffer = io.BytesIO(data)
    buffer.name = "t.xlsx"
    book = open_workbook(buffer, name="t.xlsx")
    try:
        return [(number, _trimmed(cells)) for number, cells in book.rows("表")]
    finally:
        book.close()


def _theirs(data):
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    rows = [(number, _trimmed(cells)) for number, cells in enumerate(workbook["表"].iter_rows(), start=1)]
    workbook.close()
    return rows


@pytest.mark.parametrize("writer", ["openpyxl", "openpyxl write-only", "xlsxwriter"])
def test_rows_are_what_openpyxl_reads(writer):
    data = {"openpyxl": lambda: _openpyxl(False), "openpyxl write-only": lambda: _openpyxl(True)}.get(
        writer, _xlsxwriter
    )()
    ours, theirs = _ours(data), _theirs(data)
    assert ours == theirs
    assert len(ours) >= 7
    # what the checks rely on, read back
    values = dict(ours)
    assert values[2][0] == ("张三", "s")
    assert values[2][2][0] == datetime(2024, 3, 1)
    assert values[2][4] == ("=B2*2", "f")
    assert values[7] == [("红字", "s")]


def _rewritten(data, name, change):
    """The workbook's bytes with the part `name` replaced by change(its bytes)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            part = source.read(item)
            archive.writestr(item, change(part) if item.filename == name else part)
    return target.getvalue()


def _with_dtd(data, name):
    """The workbook with a document type declaring entities (billion laughs) in the part `name`."""

    def declare(part):
        at = part.index(b"?>") + 2 if part.startswith(b"<?xml") else 0
        return part[:at] + LAUGHS + part[at:]

    target = io.BytesIO(_rewritten(data, name, declare))
    target.name = "laughs.xlsx"
    return target


LAUGHS = b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'


@pytest.mark.django_db
@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"])
def test_a_part_that_declares_entities_is_refused_and_nothing_is_imported(world, part):
    # As Excel writes it (xlsxwriter): the texts in the shared strings part
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("人员")
    for r, row in enumerate(people(["王五", "男", "", "群众", world.village_a1a.code])["人员"]):
        sheet.write_row(r, 0, row)
    workbook.close()
    data = buffer.getvalue()
    with pytest.raises(WorkbookRefused, match="不是有效的"):
        workbook_import(_with_dtd(data, part), user=None, dry_run=False)
    assert not Person.objects.filter(name="王五").exists()
    # the same workbook without the declaration imports
    workbook_import(io.BytesIO(data), user=None, dry_run=False)
    assert Person.objects.filter(name="王五").exists()


def test_a_declaration_across_two_chunks_is_seen():
    """The scan keeps the end of each 64 KB chunk: a DTD that starts in one and ends in the next
    is refused too."""
    declaration = b"<?xml version='1.0'?>"
    for at in range((1 << 16) - 12, (1 << 16) + 2):
        padding = b" " * (at - len(declaration))  # whitespace may come before the DTD
        body = declaration + padding + b"<!DOCTYPE a><a/>"  # any DTD is refused
        with pytest.raises(WorkbookRefused):
            list(xml_events(io.BytesIO(body)))
    assert [element.tag for _event, element in xml_events(io.BytesIO(b"<a><b/></a>"))] == ["b", "a"]


def _in_utf16(data, *, dtd=b""):
    """The workbook with its sheet's XML in UTF-16 (after a DTD, if given)."""

    def encode(part):
        text = part.decode("utf-8")
        if text.startswith("<?xml"):
            text = text[text.index("?>") + 2 :]
        part = ('<?xml version="1.0" encoding="UTF-16"?>' + dtd.decode() + text).encode("utf-16")
        assert part[:2] == b"\xff\xfe"
        return part

    return _rewritten(data, SHEET, encode)


def test_a_sheet_in_utf16_is_read_through_defusedxml_as_before():
    """The scan reads bytes as ASCII would: a part in UTF-16 goes through openpyxl's defusedxml
    parser, which reads the same rows and refuses entities."""
    data = _openpyxl(False)
    assert _ours(_in_utf16(data)) == _theirs(data)
    with pytest.raises(WorkbookRefused, match="不是有效的"):
        _ours(_in_utf16(data, dtd=LAUGHS))


def test_a_cell_that_names_a_shared_string_not_there_is_a_damaged_file():
    def point_past_the_strings(part):
        assert b'<c r="A1" t="s"><v>0</v>' in part
        return part.replace(b'<c r="A1" t="s"><v>0</v>', b'<c r="A1" t="s"><v>99999</v>', 1)

    damaged = _rewritten(_xlsxwriter(), SHEET, point_past_the_strings)
    with pytest.raises(WorkbookRefused, match="不是有效的"):
        _ours(damaged)


def test_a_row_given_again_is_skipped_as_openpyxl_skips_it():
    def row_2_again(part):
        assert b'<row r="3"' in part
        return part.replace(b'<row r="3"', b'<row r="2"', 1).replace(b'r="A3"', b'r="A2"', 1)

    again = _rewritten(_openpyxl(False), SHEET, row_2_again)
    ours = _ours(again)
    assert ours == _theirs(again)
    rows = dict(ours)
    assert rows[2][0] == ("张三", "s")  # the first row 2 is kept, the one given again skipped
    assert rows[3] == []
