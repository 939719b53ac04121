"""Writing workbooks in constant memory.

Exports go through xlsxwriter in constant_memory mode: each row goes to disk as it is written,
and it was the fastest plain loop measured (benchmarks/spreadsheets.py: 1.4–3.3× openpyxl
write-only even with lxml, whose XML writing is pure Python per cell otherwise). Blank templates
(small, with drop-downs) stay with openpyxl.
"""

from datetime import date, datetime
from decimal import Decimal

import xlsxwriter
from django.utils import timezone
from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

# Text that Excel would take for a formula (= + - @, tab, CR; DESIGN.md 7) stays a text cell
# with its value unchanged: every str goes through write_string, never a formula, number or link.
PROGRESS_EVERY = 5000
WORKBOOK_OPTIONS = {
    "constant_memory": True,  # rows are flushed to a temporary file as they are written
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}


def write_workbook(target, sheets, *, on_progress=None):
    """Write sheets [(name, columns, rows)] to `target` (a path or a binary file).

    `columns` are ExportColumn-like (header, width); `rows` an iterable of tuples. Numbers stay
    numbers and dates are dates; `on_progress(rows_written)` is called every few thousand rows.
    Returns the number of data rows written.
    """
    workbook = xlsxwriter.Workbook(target if not hasattr(target, "__fspath__") else str(target), WORKBOOK_OPTIONS)
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    written = 0
    for name, columns, rows in sheets:
        sheet = workbook.add_worksheet(name)
        sheet.freeze_panes(1, 0)
        for index, column in enumerate(columns):
            sheet.set_column(index, index, column.width)
        write_string, write_number = sheet.write_string, sheet.write_number
        for index, column in enumerate(columns):
            write_string(0, index, str(column.header))
        number = 0
        for number, row in enumerate(rows, start=1):
            for index, value in enumerate(row):
                kind = type(value)
                if kind is str:
                    if value:
                        write_string(number, index, value)
                elif kind is int or kind is float:
                    write_number(number, index, value)
                elif value is not None:
                    _write_other(sheet, number, index, value, day, moment)
            if on_progress and (written + number) % PROGRESS_EVERY == 0:
                on_progress(written + number)
        written += number
    workbook.close()
    return written


def _write_other(sheet, row, column, value, day, moment):
    if isinstance(value, Promise | str):  # a lazily translated label, or a str subclass
        value = str(value)
        if value:
            sheet.write_string(row, column, value)
    elif isinstance(value, bool):
        sheet.write_boolean(row, column, value)
    elif isinstance(value, datetime):
        if timezone.is_aware(value):  # Excel has no time zones: local time (Asia/Shanghai)
            value = timezone.localtime(value).replace(tzinfo=None)
        sheet.write_datetime(row, column, value, moment)
    elif isinstance(value, date):
        sheet.write_datetime(row, column, value, day)
    elif isinstance(value, int | float | Decimal):
        sheet.write_number(row, column, value)
    else:
        sheet.write_string(row, column, str(value))


# --- blank templates -----------------------------------------------------------------------

TEMPLATE_ROWS = 5000  # the rows that carry drop-downs and formats below the header
TEXT = "@"
DATE_FORMAT = "yyyy-mm-dd"


def column_format(column):
    """Codes and phone numbers are text (a 12-digit 组织编码 would show as 4.40883E+11 and
    lose leading zeros), dates are dates; other columns keep Excel's default."""
    if column.kind == "phone" or (column.kind == "code" and column.header.endswith("编码")):
        return TEXT
    if column.kind == "date":
        return DATE_FORMAT
    return None


def column_example(column):
    if column.example:
        return column.example
    if column.kind == "choice":
        return column.choices[0]
    if column.kind == "date":
        return "2017-03-10"
    return ""


def write_template(target, importer, *, guide_title, guide_headers, guide_rows, example_title):
    """A blank template for a sheet: its header row, a drop-down list for every choice column,
    the text format for codes and phones, a date format for dates, and a guide sheet with an
    example row. Small, so a normal (not write-only) workbook."""
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = importer.name
    sheet.append([column.header for column in importer.columns])
    sheet.freeze_panes = "A2"
    lists = None
    for index, column in enumerate(importer.columns, start=1):
        letter = get_column_letter(index)
        sheet.cell(row=1, column=index).font = Font(bold=True)
        dimension = sheet.column_dimensions[letter]
        dimension.width = column.width
        number_format = column_format(column)
        if number_format:  # the column's format: Excel, WPS and Calc give it to what is typed
            dimension.number_format = number_format
        if column.kind == "choice":
            inline = '"' + ",".join(column.choices) + '"'
            if len(inline) > 255 or any("," in choice for choice in column.choices):
                # Longer lists live on a hidden sheet (Excel's inline lists hold 255 characters).
                if lists is None:
                    lists = workbook.create_sheet("选项")
                    lists.sheet_state = "hidden"
                for row, choice in enumerate(column.choices, start=1):
                    lists.cell(row=row, column=index, value=choice)
                inline = f"选项!${letter}$1:${letter}${len(column.choices)}"
            validation = DataValidation(type="list", formula1=inline, allow_blank=not column.required)
            validation.error = "、".join(column.choices)
            validation.showErrorMessage = True
            sheet.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
    guide = workbook.create_sheet(str(guide_title))
    guide.append([str(header) for header in guide_headers])
    for cells in guide_rows:
        guide.append([str(value) for value in cells])
    guide.append([])
    guide.append([str(example_title)])
    guide.append([column.header for column in importer.columns])
    guide.append([column_example(column) for column in importer.columns])
    for index, width in enumerate([16, 10, 60, 18], start=1):
        guide.column_dimensions[get_column_letter(index)].width = width
    for cell in guide[1]:
        cell.font = Font(bold=True)
    workbook.save(target)
