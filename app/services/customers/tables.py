"""Reading a customers file, streamed, never whole: its format, its text encoding (CSV: UTF-8 with or without
its BOM, UTF-16 with a BOM as Excel's "Unicode text" writes it, else GB18030, the superset of GBK/GB2312
that Chinese Excel writes), its non-blank rows (CSV through the csv module, XLSX through openpyxl's
read-only mode), a preview with a guessed column mapping, and about how many rows it has.
"""
from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from app.core import contacts
from app.services.customers import attributes as attribute_definitions

PREVIEW_ROWS = 5
CSV_DELIMITERS = ",;\t|"

#: What can be wrong with a whole file (app.labels.IMPORT_FILE_PROBLEMS words them).
FILE_PROBLEMS = ("empty", "too_big", "not_a_table", "encoding", "old_excel", "no_rows")


class ImportFileError(ValueError):
    def __init__(self, code: str) -> None:
        assert code in FILE_PROBLEMS, code
        super().__init__(code)
        self.code = code


def file_format(path: str) -> str:
    """"xlsx" (a zip: Office Open XML) or "csv"; ImportFileError for an empty file or an old .xls."""
    with open(path, "rb") as source:
        head = source.read(8)
    if not head:
        raise ImportFileError("empty")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("old_excel")
    return "csv"


def csv_encoding(path: str) -> str:
    """The text encoding of a CSV, read through once a piece at a time: a BOM says it; else UTF-8 if all
    of it decodes, else GB18030; ImportFileError("encoding") if neither does, "not_a_table" for a binary."""
    with open(path, "rb") as source:
        head = source.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with open(path, "rb") as source:
                while piece := source.read(1 << 20):
                    if b"\x00" in piece:
                        raise ImportFileError("not_a_table")
                    decoder.decode(piece)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise ImportFileError("encoding")


def _csv_rows(path: str, encoding: str) -> Iterator[list[object]]:
    with open(path, encoding=encoding, newline="") as source:
        sample = source.read(64 * 1024)
        source.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS)
        except csv.Error:
            dialect = csv.excel
        try:
            yield from csv.reader(source, dialect)
        except csv.Error as error:  # a field over the size limit, a NUL: not a table we can read
            raise ImportFileError("not_a_table") from error


def _xlsx_rows(path: str) -> Iterator[list[object]]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    with open(path, "rb") as source:  # a file, not its name: openpyxl judges a name by its extension
        try:
            workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
            raise ImportFileError("not_a_table") from error
        try:
            if not workbook.worksheets:
                raise ImportFileError("no_rows")
            for row in workbook.worksheets[0].iter_rows(values_only=True):
                yield list(row)
        except (zipfile.BadZipFile, KeyError, ValueError) as error:
            raise ImportFileError("not_a_table") from error
        finally:
            workbook.close()


def _blank(row: Sequence[object]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in row)


def table_rows(path: str, fmt: str, encoding: str | None) -> Iterator[tuple[int, list[object]]]:
    """Each non-blank row with its number as a spreadsheet shows it (1 = the first line)."""
    rows = _xlsx_rows(path) if fmt == "xlsx" else _csv_rows(path, encoding or "utf-8")
    for number, row in enumerate(rows, start=1):
        if not _blank(row):
            yield number, row


@dataclass(frozen=True)
class Preview:
    upload: str
    file_name: str
    format: str
    encoding: str | None
    headers: list[str]
    rows: list[list[str]]
    header_row: int
    mapping: list[str]


def _shown(cell: object) -> str:
    return "" if cell is None else str(cell).strip()[:200]


def read_preview(upload: str, file_name: str, path: str) -> Preview:
    """The header, the first rows and a guessed mapping; ImportFileError for a file we cannot read."""
    fmt = file_format(path)
    encoding = csv_encoding(path) if fmt == "csv" else None
    header: list[str] | None = None
    header_row = 0
    rows: list[list[str]] = []
    for number, row in table_rows(path, fmt, encoding):
        if header is None:
            header, header_row = [_shown(cell) for cell in row], number
            continue
        rows.append([_shown(cell) for cell in row])
        if len(rows) >= PREVIEW_ROWS:
            break
    if header is None:
        raise ImportFileError("empty")
    if not rows:
        raise ImportFileError("no_rows")
    width = max(len(header), *(len(r) for r in rows))
    header += [""] * (width - len(header))
    definitions = attribute_definitions.definitions()
    mapping = contacts.guess_mapping(header, {a.key: list((a.labels or {}).values()) for a in definitions})
    return Preview(upload, file_name, fmt, encoding, header, [r + [""] * (width - len(r)) for r in rows],
                   header_row, mapping)




def rows_total(path: str, fmt: str) -> int:
    """About how many rows the file has (its header left out), for the progress bar."""
    return _csv_rows_total(path) if fmt == "csv" else _xlsx_rows_total(path)


def _csv_rows_total(path: str) -> int:
    """About how many rows (line breaks) a CSV has, for the progress bar: one quick pass over its bytes."""
    lines = 0
    with open(path, "rb") as source:
        while piece := source.read(1 << 20):
            lines += piece.count(b"\n")
    return max(lines - 1, 1)


def _xlsx_rows_total(path: str) -> int:
    import openpyxl

    with open(path, "rb") as source:
        workbook = openpyxl.load_workbook(source, read_only=True)
        try:
            sheet = workbook.worksheets[0] if workbook.worksheets else None
            return max((sheet.max_row or 1) - 1, 1) if sheet is not None else 1
        finally:
            workbook.close()
