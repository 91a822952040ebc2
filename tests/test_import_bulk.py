"""The import at scale and under attack: set-based writes that match the profile
service, accounts an import may not take over, hostile files, bounded memory."""

import csv
import io
import tracemalloc
from datetime import UTC, date, datetime, timedelta

import pytest
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import event, select, text

from directory.auth.passwords import hash_password
from directory.cli import import_progress
from directory.extensions import db
from directory.geo import GazetteerGeocoder, PlaceNotFound, gazetteer
from directory.geo.gazetteer import city_and_state
from directory.models import Certification, CredentialStatus, License, Role, TherapistProfile, User
from directory.therapists import bulk, importer
from directory.therapists.importer import COLUMNS, import_therapists, normalise_email
from directory.therapists.listing import summarise

from .conftest import PASSWORD, TODAY, is_postgres
from .test_import import count, row, write_csv

# Dates here are relative to the day: the clock is frozen (conftest.FROZEN_AT).
pytestmark = pytest.mark.usefixtures("frozen")


def run_import(runner, tmp_path, rows, *flags, name="t.csv"):
    return runner.invoke(args=["therapists", "import", write_csv(tmp_path / name, rows), *flags])


def error_lines(result):
    return [line for line in result.output.splitlines() if line.startswith("line ")]


def many(n, start=1, **overrides):
    """n valid rows, each its own therapist."""
    return [
        row(
            name=f"Therapist {i}",
            email=f"t{i}@example.com",
            license_number=f"MT-{i:06d}",
            **overrides,
        )
        for i in range(start, start + n)
    ]


# Each chunk is checked against the lines before it: any chunk size gives the answer of one chunk.
ACROSS_CHUNKS = pytest.mark.parametrize("chunk_rows", [importer.CHUNK_ROWS, 1, 2])


# Issue 11, item 8: an import never changes the email of an account someone has claimed.


def test_a_claimed_account_keeps_its_email(runner, ctx, tmp_path):
    assert run_import(runner, tmp_path, [row()]).exit_code == 0
    user = db.session.scalar(select(User))
    user.password_hash = hash_password(PASSWORD)  # the therapist signed up: the account is theirs
    db.session.commit()
    result = run_import(runner, tmp_path, [row(email="attacker@example.com", bio="Taken over")], name="b.csv")
    assert result.exit_code == 1
    assert error_lines(result) == [
        "line 2: license IL MT-1001 belongs to an account its therapist has claimed; an import never changes "
        "that account's email (attacker@example.com given)"
    ]
    db.session.expire_all()
    user = db.session.scalar(select(User))
    assert user.email == "ana@example.com" and user.therapist.bio == "Gentle, attentive work."


def test_an_unclaimed_account_follows_the_file(runner, ctx, tmp_path):
    run_import(runner, tmp_path, [row()])
    result = run_import(runner, tmp_path, [row(email="ana.lopez@example.com")], name="b.csv")
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(select(User.email)) == "ana.lopez@example.com"


@ACROSS_CHUNKS
def test_an_email_of_a_client_or_admin_is_refused(runner, ctx, tmp_path, make_user, monkeypatch, chunk_rows):
    monkeypatch.setattr(importer, "CHUNK_ROWS", chunk_rows)
    monkeypatch.setattr(bulk, "EMPTY_EVERY", 3)  # the chunk tables emptied along the way
    make_user(Role.CLIENT, "client@example.com")
    result = run_import(runner, tmp_path, [row(), row(email="client@example.com", license_number="MT-2")])
    assert error_lines(result) == ["line 3: email client@example.com belongs to an existing client account"]
    assert count(TherapistProfile) == 0


@ACROSS_CHUNKS
def test_two_rows_for_one_therapist_are_refused(runner, ctx, tmp_path, monkeypatch, chunk_rows):
    monkeypatch.setattr(importer, "CHUNK_ROWS", chunk_rows)
    monkeypatch.setattr(bulk, "EMPTY_EVERY", 3)  # the chunk tables emptied along the way
    run_import(runner, tmp_path, [row()])
    # By its license, the first row moves Ana to a new email; by the old email, the second names her too.
    result = run_import(
        runner,
        tmp_path,
        [row(email="ana.new@example.com"), row(email="ana@example.com", license_number="MT-2")],
        name="b.csv",
    )
    assert result.exit_code == 1
    assert error_lines(result) == [
        "line 3: the therapist of this row (by its license or email) is also on line 2: give each therapist one row"
    ]


@ACROSS_CHUNKS
def test_a_bad_row_early_leaves_every_later_row_judged_on_its_own(runner, ctx, tmp_path, monkeypatch, chunk_rows):
    """Once a problem stops the writing, later chunks still get ids of their own: no row
    is taken for another therapist because nothing was written before it."""
    monkeypatch.setattr(importer, "CHUNK_ROWS", chunk_rows)
    monkeypatch.setattr(bulk, "EMPTY_EVERY", 3)
    result = run_import(runner, tmp_path, [row(techniques="bogus"), *many(12)])
    assert result.exit_code == 1
    assert [line.split(":")[0] for line in error_lines(result)] == ["line 2"]
    assert count(TherapistProfile) == 0 and count(User) == 0


@ACROSS_CHUNKS
def test_an_email_freed_by_an_earlier_line_still_names_its_therapist(runner, ctx, tmp_path, monkeypatch, chunk_rows):
    monkeypatch.setattr(importer, "CHUNK_ROWS", chunk_rows)
    run_import(runner, tmp_path, [row(), row(name="Ben", email="ben@example.com", license_number="B-1")])
    # Line 2 moves Ana to a new address; line 3 gives Ben the address Ana had: Ben is not Ana.
    result = run_import(
        runner,
        tmp_path,
        [row(email="ana.new@example.com"), row(name="Ben", email="ana@example.com", license_number="B-1")],
        name="b.csv",
    )
    assert error_lines(result) == ["line 3: email ana@example.com belongs to a different therapist"]
    db.session.expire_all()
    assert {u.email for u in db.session.scalars(select(User))} == {"ana@example.com", "ben@example.com"}


# Issue 11, item 10: hostile files. Each is a line-numbered error, the same on both databases.


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"license_number": "A" * 500}, "license_number: Use letters, digits"),
        ({"name": "N" * 121}, "name: Use at most 120 characters"),
        ({"email": "a" * 250 + "@example.com"}, "email: "),
        ({"address": "1 Main St " * 21}, "address: Use at most 200 characters"),
        ({"city": "C" * 101, "postal_code": "", "state": "IL"}, "city: Use at most 100 characters"),
        ({"bio": "b" * 3001}, "bio: Keep the bio under 3,000 characters"),
        ({"state": "ILL"}, "state: State must be a two-letter US state code"),
        ({"name": "Ana\x00Lopez"}, "name: holds a NUL byte"),
        ({"bio": "knee\x00pain"}, "bio: holds a NUL byte"),
        ({"email": "ana\x00@example.com"}, "email: holds a NUL byte"),
        ({"price_60": "0.004"}, "price_60: Enter a price from $20 to $1000 in dollars and cents"),
        ({"price_60": "95.001"}, "price_60: Enter a price from $20 to $1000 in dollars and cents"),
        ({"price_60": "1e999999"}, "price_60: Enter a price from $20 to $1000"),
        ({"price_60": "NaN"}, "price_60: Enter a price from $20 to $1000"),
        ({"latitude": "1e400", "longitude": "-87"}, "latitude: '1e400' is not a number"),
        ({"address": "," * 20_000}, "address: Use at most 200 characters"),
        ({"license_expires": "2027-02-30"}, "license_expires: '2027-02-30' is not a date"),
    ],
)
def test_hostile_values_are_line_numbered_errors(runner, ctx, tmp_path, overrides, message):
    result = run_import(
        runner, tmp_path, [row(name="Good", email="g@example.com", license_number="G-1"), row(**overrides)]
    )
    assert result.exit_code == 1
    lines = error_lines(result)
    assert len(lines) == 1 and lines[0].startswith("line 3: ") and message in lines[0], result.output
    assert "Traceback" not in result.output
    assert count(TherapistProfile) == 0 and count(User) == 0


def test_a_line_over_128_kib_is_an_error_not_a_crash(runner, ctx, tmp_path):
    result = run_import(runner, tmp_path, [row(), row(email="b@example.com", license_number="B-1", bio="x" * 140_000)])
    assert result.exit_code == 1
    assert error_lines(result) == [
        "line 3: a line over 128 KiB: no value is that long, or a quote was left open; nothing after it was read"
    ]
    assert count(TherapistProfile) == 0


def test_a_value_over_128_kib_across_lines_is_an_error_not_a_crash(runner, ctx, tmp_path):
    bio = "\n".join(["y" * 1000] * 140)  # short lines, one long quoted value
    result = run_import(runner, tmp_path, [row(), row(email="b@example.com", license_number="B-1", bio=bio)])
    assert result.exit_code == 1
    (line,) = error_lines(result)
    assert line.startswith("line 3: not readable as CSV (field larger than field limit")
    assert count(TherapistProfile) == 0


def test_bytes_that_are_not_utf8_are_reported_by_line(runner, ctx, tmp_path):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows([row(), row(name="Jos\udce9", email="j@example.com", license_number="J-1")])
    path = tmp_path / "mixed.csv"
    path.write_bytes(buffer.getvalue().encode(errors="surrogateescape"))  # "José" in Latin-1 on line 3
    result = runner.invoke(args=["therapists", "import", str(path)])
    assert result.exit_code == 1
    assert error_lines(result) == ["line 3: name: is not UTF-8 text"]


def test_the_city_and_state_scan_is_linear_on_hostile_input():
    # The backtracking pattern it replaced took about 5 s at 20,000 commas, and four
    # times that for each doubling; at 400,000 it would not finish.
    hostile = "," * 400_000 + " x"
    assert city_and_state(hostile) is None
    assert city_and_state(", " * 200_000 + "IL") is None
    assert city_and_state("12 Main St, Springfield, IL") == ("12 Main St, Springfield", "IL")
    assert city_and_state("  Chicago ,, il  ") == ("Chicago", "il")
    with pytest.raises(PlaceNotFound):
        GazetteerGeocoder().geocode(hostile)
    assert GazetteerGeocoder().geocode("Springfield, " * 1000 + "Chicago, IL").address == "Chicago, IL"


# All or nothing, at size; errors capped and counted.


def test_a_bad_last_row_of_50000_means_nothing_is_written(ctx, app):
    rows = many(50_000, latitude="41.88", longitude="-87.62")
    rows[-1]["techniques"] = "hot_stone"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    report = import_therapists(buffer.getvalue(), app.extensions["geocoder"], verified=True)
    assert report.error_count == 1 and report.errors[0][0] == 50_001
    assert "techniques: unknown value 'hot_stone'" in report.errors[0][1]
    assert count(TherapistProfile) == 0 and count(User) == 0 and count(License) == 0


def test_the_first_1000_errors_are_listed_and_all_counted(runner, ctx, tmp_path):
    rows = many(1_200, techniques="hot_stone") + many(5, start=5_000)
    result = run_import(runner, tmp_path, rows)
    assert result.exit_code == 1
    lines = error_lines(result)
    assert len(lines) == 1_000 and lines[0].startswith("line 2: ") and lines[-1].startswith("line 1001: ")
    assert "nothing imported: 1,200 rows need fixing (the first 1,000 above)" in result.output


@ACROSS_CHUNKS
def test_duplicates_and_row_errors_are_listed_together_in_line_order(runner, ctx, tmp_path, monkeypatch, chunk_rows):
    monkeypatch.setattr(importer, "CHUNK_ROWS", chunk_rows)
    monkeypatch.setattr(bulk, "EMPTY_EVERY", 3)  # the chunk tables emptied along the way
    rows = many(3) + [row(email="t1@example.com", license_number="NEW-1"), row(techniques="bogus")] + many(2)
    result = run_import(runner, tmp_path, rows)
    assert [line.split(":")[0] for line in error_lines(result)] == ["line 5", "line 6", "line 7", "line 8"]
    assert "email t1@example.com already appears on line 2" in error_lines(result)[0]
    assert "license IL MT-000001 already appears on line 2" in error_lines(result)[2]


# What the set-based writes store is what the profile service and the listing summary say.


@ACROSS_CHUNKS
def test_the_summary_written_in_bulk_is_the_listing_summary(runner, ctx, tmp_path, factory, monkeypatch, chunk_rows):
    monkeypatch.setattr(importer, "CHUNK_ROWS", chunk_rows)
    monkeypatch.setattr(bulk, "EMPTY_EVERY", 3)  # the chunk tables emptied along the way
    soon = (TODAY + timedelta(days=30)).isoformat()
    first = [
        row(),
        row(name="Ben", email="ben@example.com", license_number="B-1", certifications="", price_30="50"),
        row(name="Cy", email="cy@example.com", license_number="C-1", certifications="oncology;board_certified"),
        row(name="Di", email="di@example.com", license_number="D-1", license_expires=soon, techniques="sports"),
    ]
    assert run_import(runner, tmp_path, first, "--verified").exit_code == 0
    # Things the file does not say: a second verified license, a certification with an expiry
    # entered by the therapist, a suspension.
    ana = db.session.scalar(select(TherapistProfile).filter_by(name="Ana Lopez"))
    later = TODAY + timedelta(days=900)
    ana.licenses.append(License(number="SECOND-1", state="IN", expires_on=later, status=CredentialStatus.VERIFIED))
    cy = db.session.scalar(select(TherapistProfile).filter_by(name="Cy"))
    next(c for c in cy.certifications if c.slug == "oncology").expires_on = date(2031, 1, 31)
    db.session.scalar(select(TherapistProfile).filter_by(name="Di")).suspended_at = datetime.now(UTC)
    factory.therapist(name="Not in the file", certifications=("prenatal",))
    db.session.commit()
    again = [
        row(price_60="120", certifications="prenatal;sports"),
        row(name="Ben", email="ben@example.com", license_number="B-1", license_expires=soon, techniques="reflexology"),
        row(name="Cy", email="cy@example.com", license_number="C-1", certifications="oncology;prenatal"),
        row(name="Di", email="di@example.com", license_number="D-1", license_expires=soon, techniques="sports"),
        row(name="Eve", email="eve@example.com", license_number="E-1"),
    ]
    assert run_import(runner, tmp_path, again, name="b.csv").exit_code == 0
    db.session.expire_all()
    profiles = db.session.scalars(select(TherapistProfile)).all()
    assert len(profiles) == 6
    for profile in profiles:
        stored = {key: getattr(profile, key) for key in summarise(profile)}
        assert stored == summarise(profile), profile.name
    ana = next(p for p in profiles if p.name == "Ana Lopez")
    assert ana.listed_until == later and ana.search_prices == "45:75.00,60:120.00"
    assert ana.search_certifications == "prenatal"  # sports waits for an administrator
    cy = next(p for p in profiles if p.name == "Cy")
    assert cy.search_certifications == "oncology@2031-01-31"
    assert next(p for p in profiles if p.name == "Di").listed_until is None  # suspended


def test_a_verified_reimport_verifies_what_waits_and_reverifies_what_changed(runner, ctx, tmp_path):
    run_import(runner, tmp_path, [row(), row(name="Ben", email="ben@example.com", license_number="B-1")])
    ben_license = db.session.scalar(select(License).filter_by(number="B-1"))
    ben_license.reject("Unreadable scan")
    db.session.commit()
    later = (TODAY + timedelta(days=700)).isoformat()
    result = run_import(
        runner,
        tmp_path,
        [row(license_expires=later), row(name="Ben", email="ben@example.com", license_number="B-1")],
        "--verified",
        name="b.csv",
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    for lic in db.session.scalars(select(License)):
        assert lic.status == CredentialStatus.VERIFIED and lic.verified_via == "bulk import"
        assert lic.rejection_reason is None and lic.verified_at.date() == TODAY
    certs = db.session.scalars(select(Certification)).all()
    assert {c.status for c in certs} == {CredentialStatus.VERIFIED}


def test_kept_certifications_keep_their_state_and_dropped_ones_go(runner, ctx, tmp_path):
    run_import(runner, tmp_path, [row(certifications="prenatal;sports")], "--verified")
    cert = db.session.scalar(select(Certification).filter_by(slug="prenatal"))
    verified_at, cert.issuer = cert.verified_at, "AMTA"
    db.session.commit()
    run_import(runner, tmp_path, [row(certifications="prenatal;oncology")], name="b.csv")
    db.session.expire_all()
    certs = {c.slug: c for c in db.session.scalars(select(Certification))}
    assert set(certs) == {"prenatal", "oncology"}
    assert certs["prenatal"].status == CredentialStatus.VERIFIED and certs["prenatal"].issuer == "AMTA"
    assert certs["prenatal"].verified_at == verified_at
    assert certs["oncology"].status == CredentialStatus.PENDING


def test_the_statements_do_not_grow_with_the_rows(app, ctx, monkeypatch):
    """Set-based: the same number of statements for 10 rows as for 200 (one chunk each)."""
    geocoder = app.extensions["geocoder"]

    def statements(rows, start):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(many(rows, start=start, postal_code="60601"))
        seen = []
        listener = lambda *args: seen.append(args[2])
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            report = import_therapists(buffer.getvalue(), geocoder)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert report.ok and report.created == rows
        return len(seen)

    assert statements(10, 1) == statements(200, 100)


def test_memory_does_not_grow_with_the_file(app, ctx, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "CHUNK_ROWS", 200)
    geocoder = app.extensions["geocoder"]
    gazetteer()  # loaded once per process, whatever the import

    def peak(rows, start):
        path = write_csv(tmp_path / f"{rows}.csv", many(rows, start=start))
        with open(path, encoding="utf-8", newline="") as fh:
            tracemalloc.start()
            try:
                report = import_therapists(fh, geocoder)
                return tracemalloc.get_traced_memory()[1], report
            finally:
                tracemalloc.stop()

    peak(50, 100_000)  # caches that fill once
    small, report = peak(400, 1)
    assert report.ok
    large, report = peak(2_400, 10_000)
    assert report.ok and report.created == 2_400
    assert large < small * 1.5, (small, large)


# The command's output.


def test_without_a_terminal_the_command_prints_one_summary_line(runner, ctx, tmp_path):
    result = run_import(runner, tmp_path, many(3))
    assert result.exit_code == 0
    (line,) = result.output.splitlines()
    assert line.startswith("Imported 3 therapists: 3 new, 0 updated in ") and line.endswith(" rows/s).")


def test_on_a_terminal_a_progress_bar_shows_rows_per_second(tmp_path):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    path = tmp_path / "f.csv"
    path.write_text("x" * 1000)
    with open(path, encoding="utf-8") as fh, import_progress(fh, 1000, screen) as progress:
        fh.read()
        progress("checking", 500)
        progress("writing", 1000)
    assert "Checking" in screen.getvalue() and "Writing" in screen.getvalue()
    assert "1,000 rows" in screen.getvalue() and "rows/s" in screen.getvalue()
    with import_progress(io.StringIO(), 10, io.StringIO()) as progress:
        assert progress is None


def test_a_big_import_ends_with_vacuum_analyze(runner, ctx, tmp_path, app, monkeypatch):
    if not is_postgres(app):
        pytest.skip("VACUUM is PostgreSQL's")
    monkeypatch.setattr(importer, "VACUUM_AFTER", 50)
    assert run_import(runner, tmp_path, many(300)).exit_code == 0
    # The tables were truncated before the test (no statistics); VACUUM (ANALYZE) counted the rows
    # and set the visibility map the search's index-only scan needs.
    for table in ("therapist_profiles", "users", "licenses", "therapist_techniques", "session_prices"):
        pages, tuples = db.session.execute(
            text("SELECT relpages, reltuples FROM pg_class WHERE relname = :t"), {"t": table}
        ).one()
        assert pages > 0 and tuples >= 300, table


# The fast path for plain addresses gives the library's answer.


@pytest.mark.parametrize(
    "email",
    [
        "Ana.Lopez@Example.COM",
        "a+tag@sub.example.org",
        "o'brien@example.ie",
        "ana@bücher.example",
        "José@example.com",
        '"quoted"@example.com',
        "a..b@example.com",
        ".a@example.com",
        "a@example",
        "a@-example.com",
        "a@example..com",
        "@example.com",
        "a" * 65 + "@example.com",
    ],
)
def test_email_normalisation_matches_the_library(email):
    try:
        expected = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        with pytest.raises(EmailNotValidError):
            normalise_email(email)
    else:
        assert normalise_email(email) == expected


# Issue 23, item 7: the therapists import, on the same malformed lines as the registry's.


def _file_with_line_3(tmp_path, bad: str):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerow(row())
    lines = buffer.getvalue() + bad + "\n"
    writer = csv.DictWriter(buffer := io.StringIO(), fieldnames=COLUMNS)
    writer.writerow(row(email="c@example.com", license_number="C-1"))
    path = tmp_path / "t.csv"
    path.write_text(lines + buffer.getvalue(), encoding="utf-8")
    return path


def _good_line(**overrides) -> list[str]:
    values = row(email="b@example.com", license_number="B-1", **overrides)
    return [values.get(c, "") for c in COLUMNS]


@pytest.mark.parametrize(
    "bad, message",
    [
        (
            ",".join(f'"{v}"' for v in _good_line()).replace('"b@example.com"', '"b@example.com"x'),
            "line 3: not readable",
        ),
        (",".join(_good_line()[:3]), "line 3: row has 3 fields; the header has"),
        (",".join([*_good_line(), "x", "y", "z"]), "line 3: row has"),
    ],
    ids=["stray-quote", "too-few-fields", "extra-fields"],
)
def test_a_malformed_row_names_its_line_and_nothing_is_written(runner, ctx, tmp_path, bad, message):
    result = runner.invoke(args=["therapists", "import", str(_file_with_line_3(tmp_path, bad))])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert any(line.startswith(message) for line in error_lines(result)), result.output
    assert count(TherapistProfile) == 0 and count(User) == 0
