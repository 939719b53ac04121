"""Writing workbooks in constant memory: openpyxl's write-only mode streams rows to disk."""

from datetime import date, datetime

from django.utils import timezone
from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

# Text that Excel would take for a formula (DESIGN.md 7): kept as a text cell, value unchanged.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PROGRESS_EVERY = 5000


def write_workbook(target, sheets, *, on_progress=None):
    """Write sheets [(name, columns, rows)] to `target` (a path or a binary file).

    `columns` are ExportColumn-like (header, width); `rows` an iterable of tuples. Numbers stay
    numbers and dates are dates; `on_progress(rows_written)` is called every few thousand rows.
    Returns the number of data rows written.
    """
    workbook = Workbook(write_only=True)
    written = 0
    for name, columns, rows in sheets:
        sheet = workbook.create_sheet(name)
        sheet.freeze_panes = "A2"
        for index, column in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        sheet.append([column.header for column in columns])
        for row in rows:
            sheet.append([_cell(sheet, value) for value in row])
            written += 1
            if on_progress and written % PROGRESS_EVERY == 0:
                on_progress(written)
    workbook.save(target)
    return written


def _cell(sheet, value):
    if isinstance(value, Promise):  # a lazily translated label
        value = str(value)
    if isinstance(value, str):
        if value.startswith(FORMULA_TRIGGERS):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # openpyxl would otherwise store "=…" as a formula
            return cell
        return value
    if isinstance(value, datetime):
        if timezone.is_aware(value):  # Excel has no time zones: local time (Asia/Shanghai)
            value = timezone.localtime(value).replace(tzinfo=None)
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return value
