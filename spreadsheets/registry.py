"""What apps register with the spreadsheet machinery: the sheets they import and the lists
they export. The machinery knows no domain app; each app registers its own (in its
AppConfig.ready), and the machinery reads, checks, previews, writes and reports.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from .reading import CellError, cell_date, cell_phone, cell_text, is_formula

# --- import --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a sheet. `header` is the Chinese header, never translated (DESIGN.md 7)."""

    header: str
    key: str
    required: bool = False
    kind: str = "text"  # text | code (NFKC-normalized) | phone | date | choice
    choices: tuple = ()  # the fixed Chinese values of a choice column
    width: int = 14
    help: str = ""  # shown in the blank template's guide sheet
    example: str = ""  # the example row of the blank template's guide sheet

    def parse(self, cell):
        """The cleaned value of a cell, or CellError with a Chinese reason."""
        if is_formula(cell):
            raise CellError(_("The cell holds a formula; type the value itself."))
        value = cell.value if cell is not None else None
        if self.kind == "date":
            if value is None or cell_text(value) == "":
                return self._empty()
            return cell_date(value)
        if self.kind == "phone":
            return cell_phone(value) or self._empty()
        text = cell_text(value, normalize=self.kind in {"code", "choice"})
        if not text:
            return self._empty()
        if self.kind == "choice" and text not in self.choices:
            raise CellError(
                _("「%(value)s」 is not one of: %(choices)s.") % {"value": text, "choices": "、".join(self.choices)}
            )
        return text

    def _empty(self):
        if self.required:
            raise CellError(_("This cell must not be empty."))
        return None


@dataclass(slots=True)
class Row:
    sheet: str
    number: int  # as Excel shows it
    values: dict
    failed: bool = False  # a cell of the row was unusable (and reported)


@dataclass(slots=True)
class RowError:
    sheet: str
    row: int
    column: str
    message: str

    def as_dict(self):
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "message": self.message}


@dataclass
class SheetPlan:
    """What importing a sheet would do: counts and readable lines, plus the sheet's own data."""

    sheet: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # how the sheet was read (e.g. found by its header)
    data: Any = None
    more_changes: int = 0  # lines past MAX_LISTED_CHANGES given to change(), counted, not kept

    def change(self, line):
        """Describe one change; past the lines a preview lists, only count it. `line` may be a
        function giving the text, called only for a line that is listed (a streaming sheet of
        100,000 rows would otherwise translate and format 100,000 lines to keep 500)."""
        if len(self.changes) < MAX_LISTED_CHANGES:
            self.changes.append(line() if callable(line) else line)
        else:
            self.more_changes += 1

    def as_dict(self):
        return {
            "sheet": self.sheet,
            "notes": [str(note) for note in self.notes],
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "changes": self.changes[:MAX_LISTED_CHANGES],
            "more_changes": max(0, len(self.changes) - MAX_LISTED_CHANGES) + self.more_changes,
        }


MAX_LISTED_CHANGES = 500


@dataclass
class ImportContext:
    """Shared by the sheets of one workbook: who imports, the errors so far, and what earlier
    sheets of the same file make (e.g. organizations that the 人员 sheet refers to)."""

    user: Any
    errors: list = field(default_factory=list)
    shared: dict = field(default_factory=dict)
    # What the upload is for, when a sheet belongs to one record (e.g. {"scheme": 7} for the
    # 考核指标 of an assessment scheme): given by the page the file was uploaded from.
    target: dict = field(default_factory=dict)

    def error(self, row, column, message):
        self.errors.append(RowError(row.sheet, row.number, column, str(message)))


class SheetImporter(ABC):
    """Subclass per sheet: name, columns, allowed(user), plan(rows, context), apply(plan, context).

    plan() validates and returns a SheetPlan without writing; apply() writes that plan inside
    the transaction the machinery opens, and only when no sheet of the file had an error.
    """

    name: str = ""
    label: str = ""
    columns: list = []
    order: int = 100
    # Whether writing the sheet needs a person to act as (e.g. who listed a problem): the
    # command line then asks for --user before reading the file.
    needs_user: bool = False
    # Whether plan() takes the rows as an iterator, read once as the file is read (and checks
    # them a chunk at a time, in bounded memory); else it gets them as a list.
    streams: bool = False

    @abstractmethod
    def allowed(self, user): ...

    @abstractmethod
    def plan(self, rows, context): ...

    @abstractmethod
    def apply(self, plan, context): ...

    @property
    def headers(self):
        return [column.header for column in self.columns]


SHEETS: dict[str, SheetImporter] = {}


def register_sheet(importer):
    SHEETS[importer.name] = importer
    return importer


def sheets_in_order():
    return sorted(SHEETS.values(), key=lambda importer: importer.order)


# --- export --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportColumn:
    header: str
    width: int = 14


class ExportSpec(ABC):
    """Subclass per list: kind, label, sheet_name, columns, allowed(), rows(), filename().

    rows(params) returns (count, iterator of tuples), the tuples in column order, streamed
    from the database in chunks (values_list(...).iterator(chunk_size=...)).
    """

    kind: str = ""
    label: str = ""
    sheet_name: str = ""
    columns: list = []

    @abstractmethod
    def params_from(self, data):
        """The job parameters (JSON-able) from a request's POST data or a command's options."""

    @abstractmethod
    def allowed(self, user, params): ...

    @abstractmethod
    def rows(self, params): ...

    def rows_for(self, params, user):
        """rows() for the user who asked; an export whose rows depend on who asks overrides it
        (None: the command line, which exports everything)."""
        return self.rows(params)

    def title(self, params):
        """How the job is named in the list of exports."""
        return str(self.label)

    def columns_for(self, params):
        """The columns of this export; a list whose headers depend on the data (e.g. a review's
        grade set) overrides it."""
        return self.columns

    def filename(self, params):
        return f"{self.sheet_name}.xlsx"


EXPORTS: dict[str, ExportSpec] = {}


def register_export(spec):
    EXPORTS[spec.kind] = spec
    return spec
