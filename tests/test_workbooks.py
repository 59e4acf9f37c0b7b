"""Workbooks for the .xlsx downloads: typed cells, text that stays text, times in a zone."""

import io
import struct
import tempfile
import zipfile
from array import array
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from muteadmin.core.durations import remaining_in_words, requested_in_words
from muteadmin.core.workbooks import Kind, XlsxColumn, XlsxStream, xlsx_write
from muteadmin.tencent.nospeaking import PERMANENT

COLUMNS = (
    XlsxColumn(_("ID"), Kind.NUMBER),
    XlsxColumn(_("Time"), Kind.TIME),
    XlsxColumn(_("Reason")),
)
SHANGHAI = ZoneInfo("Asia/Shanghai")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def workbook_bytes(stream) -> bytes:
    return b"".join(stream)


def sheet_rows(data: bytes, sheet: int = 0) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [tuple(cell.value for cell in row) for row in book.worksheets[sheet].iter_rows()]


def cells(data: bytes, sheet: int = 0) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [list(row) for row in book.worksheets[sheet].iter_rows()]


def sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return "".join(
            book.read(name).decode()
            for name in book.namelist()
            if name.startswith("xl/worksheets/")
        )


def mo_catalog(messages: dict[str, str]) -> bytes:
    """A compiled gettext catalog (.mo), as msgfmt writes one."""
    messages = {"": "Content-Type: text/plain; charset=UTF-8\n"} | messages
    keys = sorted(messages)
    ids = strs = b""
    offsets = []
    for key in keys:
        key_bytes, value_bytes = key.encode(), messages[key].encode()
        offsets.append((len(ids), len(key_bytes), len(strs), len(value_bytes)))
        ids += key_bytes + b"\0"
        strs += value_bytes + b"\0"
    key_start = 7 * 4 + 16 * len(keys)
    value_start = key_start + len(ids)
    key_table, value_table = [], []
    for id_offset, id_length, str_offset, str_length in offsets:
        key_table += [id_length, id_offset + key_start]
        value_table += [str_length, str_offset + value_start]
    header = struct.pack("Iiiiiii", 0x950412DE, 0, len(keys), 7 * 4, 7 * 4 + len(keys) * 8, 0, 0)
    return header + array("i", key_table).tobytes() + array("i", value_table).tobytes() + ids + strs


@pytest.fixture
def chinese_catalog(settings, tmp_path: Path):
    """A zh-hans catalog holding a few of the headings' translations, found before any other."""

    def install(messages: dict[str, str]) -> None:
        folder = tmp_path / "zh_Hans" / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / "django.mo").write_bytes(mo_catalog(messages))
        settings.LOCALE_PATHS = [str(tmp_path)]

    return install


def test_cells_are_typed_and_times_are_shown_in_the_zone():
    at = datetime(2026, 12, 6, 1, 30, 15, tzinfo=UTC)
    written = xlsx_write(title="Log", columns=COLUMNS, rows=[(7, at, "spam")], zone=SHANGHAI)
    data = written.file.read()
    assert written.rows == 1
    header, row = cells(data)
    assert [cell.value for cell in header] == ["ID", "Time (Asia/Shanghai)", "Reason"]
    number, moment, reason = row
    assert (number.value, number.data_type) == (7, "n")
    assert moment.is_date
    assert moment.value == datetime(2026, 12, 6, 9, 30, 15)
    assert (reason.value, reason.data_type) == ("spam", "s")


def test_a_time_west_of_utc_falls_on_the_day_before():
    at = datetime(2026, 12, 6, 1, 30, tzinfo=UTC)
    data = xlsx_write(title="Log", columns=COLUMNS, rows=[(1, at, "")], zone=LOS_ANGELES).file
    assert sheet_rows(data.read())[1][1] == datetime(2026, 12, 5, 17, 30)


def test_a_naive_time_is_taken_as_utc_as_stored():
    naive = datetime(2026, 12, 6, 23, 59, 59)
    data = xlsx_write(title="Log", columns=COLUMNS, rows=[(1, naive, "")], zone=SHANGHAI).file
    assert sheet_rows(data.read())[1][1] == datetime(2026, 12, 7, 7, 59, 59)


@pytest.mark.parametrize(
    "text", ["=1+1", "+SUM(A1:A9)", "-2+3", "@cmd", '=HYPERLINK("http://evil","x")', "007"]
)
def test_text_that_looks_like_a_formula_or_number_stays_a_string_cell(text):
    data = workbook_bytes(XlsxStream(title="Log", columns=COLUMNS, rows=[(1, None, text)]))
    reason = cells(data)[1][2]
    assert (reason.value, reason.data_type) == (text, "s")
    assert "<f>" not in sheet_xml(data)


def test_blank_values_leave_the_cell_empty():
    data = workbook_bytes(XlsxStream(title="Log", columns=COLUMNS, rows=[(1, None, "")]))
    assert sheet_rows(data)[1] == (1, None, None)


def test_control_characters_do_not_break_the_file():
    text = "tab\there\x01\x1fend"
    data = workbook_bytes(XlsxStream(title="Log", columns=COLUMNS, rows=[(1, None, text)]))
    # Excel writes control characters as _xHHHH_ escapes; openpyxl leaves them as they are.
    assert sheet_rows(data)[1][2].startswith("tab\there")


def test_rows_beyond_a_sheet_go_on_to_the_next_under_the_same_header():
    rows = [(number, None, f"r{number}") for number in range(1, 6)]
    data = workbook_bytes(XlsxStream(title="Log", columns=COLUMNS, rows=rows, sheet_rows=3))
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Log", "Log (2)", "Log (3)"]
    values = [[row[0] for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets]
    assert values == [["ID", 1, 2], ["ID", 3, 4], ["ID", 5]]


def test_the_stream_keeps_the_zone_and_language_it_was_made_in():
    at = datetime(2026, 12, 6, 1, 30, tzinfo=UTC)
    with timezone.override("Asia/Shanghai"):
        stream = XlsxStream(title="Log", columns=COLUMNS, rows=[(1, at, "")])
    # Read later, as a streamed response is, after the view's zone is no longer active.
    with timezone.override("UTC"):
        rows = sheet_rows(workbook_bytes(stream))
    assert rows[0][1] == "Time (Asia/Shanghai)"
    assert rows[1][1] == datetime(2026, 12, 6, 9, 30)


def test_headers_are_written_in_the_active_language(chinese_catalog):
    chinese_catalog(
        {
            "Reason": "原因",
            "Time": "时间",
            "%(column)s (%(zone)s)": "%(column)s\uff08%(zone)s\uff09",
        }
    )
    with translation.override("zh-hans"):
        stream = XlsxStream(title="Log", columns=COLUMNS, rows=[])
    assert sheet_rows(workbook_bytes(stream))[0] == ("ID", "时间\uff08UTC\uff09", "原因")


def test_headers_in_english_without_a_translation():
    with translation.override("en"):
        stream = XlsxStream(title="Log", columns=COLUMNS, rows=[])
    assert sheet_rows(workbook_bytes(stream))[0] == ("ID", "Time (UTC)", "Reason")


def test_a_failed_export_leaves_no_temporary_file_behind(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def rows():
        yield (1, None, "first")
        yield (2, None, "second")
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        xlsx_write(title="Log", columns=COLUMNS, rows=rows())
    assert list(tmp_path.iterdir()) == []


def test_a_finished_export_leaves_only_the_workbook_until_it_is_read(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    chunks = XlsxStream(title="Log", columns=COLUMNS, rows=[(1, None, "x")]).chunks()
    data = b"".join(chunk for chunk, _ in chunks)
    assert sheet_rows(data)[1] == (1, None, "x")
    assert list(tmp_path.iterdir()) == []


def test_lengths_read_as_words():
    assert remaining_in_words(PERMANENT) == "permanent"
    assert remaining_in_words(0) == "not muted"
    assert remaining_in_words(7 * 86400 + 2 * 3600) == "7 d 2 h"
    assert requested_in_words(PERMANENT) == "permanent"
    assert requested_in_words(0) == "lifted"
