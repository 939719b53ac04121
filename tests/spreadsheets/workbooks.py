"""Build small workbooks for tests."""

import io

from openpyxl import Workbook

from organizations.sheets import ORGANIZATION_COLUMNS, PEOPLE_COLUMNS

ORGANIZATION_HEADERS = [column.header for column in ORGANIZATION_COLUMNS]
PEOPLE_HEADERS = [column.header for column in PEOPLE_COLUMNS]


def workbook_bytes(sheets):
    """sheets: {name: [row, ...]} with the header row included. Returns a BytesIO named .xlsx."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "test.xlsx"
    return buffer


def organizations(*rows):
    return {"组织机构": [ORGANIZATION_HEADERS, *rows]}


def people(*rows):
    return {"人员": [PEOPLE_HEADERS, *rows]}
