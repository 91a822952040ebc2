"""Issue 23, item 7: a malformed NPPES file is refused whole, naming its line and problem.

Before: an unterminated quote on line 3 swallowed the rest of the file into one record
(896 MB for 300 MB) and died with a raw `_csv.Error`; a NUL byte reached PostgreSQL as a
raw DataError; a row with a 5-digit NPI and three extra fields was skipped, exit 0.
Now each gives exit 1, "FILE, line N: problem", and the previous snapshot stays.
"""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from directory.extensions import db
from directory.models import RegistryProvider, RegistrySnapshot
from directory.registry.nppes import MAX_LINE

from . import nppes_sample as sample

KEPT = sample.npi(7)


def csv_line(values: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL).writerow(values)
    return out.getvalue().encode()


def good_row(n: int) -> list[str]:
    return sample.row(sample.npi(n), f"LAST{n}", "FIRST", "IL", [(sample.MASSAGE, f"IL-{n}", "IL")])


def nppes_file(tmp_path, bad_line: bytes, *, name: str = "npidata_pfile_20050523-20261201.csv"):
    """The header (line 1), a good row (line 2), the bad line (line 3), then more good rows."""
    lines = [csv_line(sample.header()), csv_line(good_row(20)), bad_line]
    lines += [csv_line(good_row(n)) for n in range(21, 60)]
    path = tmp_path / name
    path.write_bytes(b"".join(lines))
    return path


@pytest.fixture
def previous(runner, ctx, tmp_path):
    """A snapshot already in place, which a refused file must leave alone."""
    rows = [sample.row(KEPT, "KEPT", "KIM", "IL", [(sample.MASSAGE, "IL-7", "IL")])]
    path = sample.write(tmp_path / "npidata_pfile_20050523-20261101.csv", rows)
    assert runner.invoke(args=["registry", "import-nppes", str(path)]).exit_code == 0


def still_previous() -> bool:
    db.session.expire_all()
    npis = db.session.scalars(select(RegistryProvider.npi)).all()
    return npis == [KEPT] and len(db.session.scalars(select(RegistrySnapshot)).all()) == 1


massage = good_row(30)
extra = [*massage, "x", "y", "z"]
extra[0] = "12345"


@pytest.mark.parametrize(
    "bad_line, message",
    [
        (b'"1234567893","1","","","GARCIA,"MARIA"\n', "line 3: a quote opened here is never closed (a stray quote)"),
        (csv_line(massage).replace(b"LAST30", b"LA\x00ST"), "line 3: contains a NUL byte"),
        (csv_line(extra), "line 3: 70 fields where the header has 67"),
        (csv_line(["12345", *massage[1:]]), "line 3: the NPI '12345' is not ten digits"),
        (csv_line(massage).replace(b"LAST30", b"L\xe9ST"), "line 3: byte 0xe9 at column 26 is not UTF-8 text"),
        (csv_line(massage).replace(b'"LAST30"', b'"LAST"30'), "line 3: not readable as CSV"),
        (b"A" * (MAX_LINE + 10), "line 3: longer than 128 KiB"),
    ],
    ids=[
        "unterminated-quote",
        "nul",
        "extra-fields-and-short-npi",
        "short-npi",
        "not-utf8",
        "stray-quote",
        "no-newline",
    ],
)
def test_a_malformed_row_refuses_the_whole_file_naming_its_line(runner, previous, tmp_path, bad_line, message):
    path = nppes_file(tmp_path, bad_line)
    result = runner.invoke(args=["registry", "import-nppes", str(path)])
    assert result.exit_code == 1, result.output
    assert f"{path.name}, {message}" in result.output, result.output
    assert "Nothing imported; the previous snapshot is kept." in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert still_previous()


def test_a_quote_left_open_stops_at_a_bound_not_at_the_end_of_the_file(runner, previous, tmp_path):
    """The open quote's record stops growing at MAX_RECORD: the file's later megabytes are never held."""
    lines = [csv_line(sample.header()), csv_line(good_row(20)), b'"1234567893","1","","","GARCIA,"MARIA"\n']
    lines += [csv_line(good_row(21))] * 3000  # ~600 KB after the open quote... and more
    lines += [b"X" * 100_000 + b"\n"] * 20  # 2 MB more
    path = tmp_path / "npidata_pfile_20050523-20261201.csv"
    path.write_bytes(b"".join(lines))
    result = runner.invoke(args=["registry", "import-nppes", str(path)])
    assert result.exit_code == 1 and "line 3: a quote opened here is never closed" in result.output
    assert still_previous()


def test_a_clean_file_still_imports(runner, previous, tmp_path):
    path = nppes_file(tmp_path, csv_line(good_row(99)))
    result = runner.invoke(args=["registry", "import-nppes", str(path)])
    assert result.exit_code == 0, result.output
    assert "41 massage therapists" in result.output
