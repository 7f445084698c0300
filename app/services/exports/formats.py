"""Writing export rows as a CSV or Excel file, with customers' text kept from running as a formula."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, BinaryIO, Protocol

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

#: Excel keeps at most this many characters in a cell.
XLSX_MAX_TEXT = 32767
#: Text a spreadsheet may read as a formula or a command when it starts with one of these (OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: str) -> str:
    """Text a spreadsheet opens as text, never as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


class Rows(Protocol):
    extension: str

    def write(self, row: Sequence[Any]) -> None: ...

    def close(self) -> None: ...


class CsvRows:
    """UTF-8 with a byte-order mark, so Excel opens Chinese text correctly; Excel's dialect."""

    extension = "csv"

    def __init__(self, out: BinaryIO, title: str) -> None:
        self._text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._text)

    def write(self, row: Sequence[Any]) -> None:
        self._writer.writerow([self._cell(value) for value in row])

    def close(self) -> None:
        self._text.flush()
        self._text.detach()  # the job closes the file it opened

    @staticmethod
    def _cell(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, str):
            return csv_safe(value)
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S")
        return value


_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


class XlsxRows:
    """openpyxl's write-only workbook: rows are streamed to a temporary file, saved into ``out`` at the end."""

    extension = "xlsx"

    def __init__(self, out: BinaryIO, title: str) -> None:
        self._out = out
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title=_SHEET_TITLE_FORBIDDEN.sub(" ", title)[:31] or "Sheet1")

    def write(self, row: Sequence[Any]) -> None:
        self._sheet.append([self._cell(value) for value in row])

    def close(self) -> None:
        self._book.save(self._out)

    def _cell(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = ILLEGAL_CHARACTERS_RE.sub("", value)[:XLSX_MAX_TEXT]
        if value.startswith("="):
            # openpyxl stores text starting with "=" as a formula; make it a text cell instead.
            cell = WriteOnlyCell(self._sheet, value)
            cell.data_type = "s"
            return cell
        return value
