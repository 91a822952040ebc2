"""The NPI on a profile, the NPPES import, and the evidence beside each license in the queue."""

from datetime import date
from html import unescape

import pytest
from sqlalchemy import event, func, inspect, select
from sqlalchemy.exc import IntegrityError

from directory.extensions import db
from directory.models import (
    CredentialStatus,
    RegistryLicense,
    RegistryProvider,
    RegistrySnapshot,
    Role,
    TherapistProfile,
)
from directory.registry.npi import is_valid_npi, license_key, npi_problem
from directory.registry.nppes import file_date_from_name, import_nppes
from directory.therapists.profiles import ProfileData, apply_profile

from . import nppes_sample as sample
from .conftest import login, post_form

MARIA = sample.npi(1)


# --- the NPI check digit -------------------------------------------------------------


@pytest.mark.parametrize(
    "value, valid",
    [
        ("1234567893", True),  # the example in CMS's check-digit paper
        ("1234567890", False),
        ("1245319599", True),
        ("1245319598", False),
        (sample.npi(42), True),
        ("123456789", False),
        ("12345678931", False),
        ("12345678a3", False),
        ("", False),
    ],
)
def test_npi_check_digit_over_the_80840_prefix(value, valid):
    assert is_valid_npi(value) is valid
    assert (npi_problem(value) is None) is valid


def test_license_numbers_compare_without_punctuation_case_or_leading_zeros():
    assert license_key("ma-00123") == license_key("MA123") == "MA123"
    assert license_key("0042.17") == "4217"


@pytest.mark.parametrize(
    "name, expected",
    [
        ("npidata_pfile_20050523-20261109.csv", date(2026, 11, 9)),
        ("NPIDATA_PFILE_20050523-20261109_fileheader.csv", date(2026, 11, 9)),
        ("npidata_pfile_20050523-20261399.csv", None),
        ("providers.csv", None),
    ],
)
def test_file_date_comes_from_the_nppes_file_name(name, expected):
    assert file_date_from_name(name) == expected


# --- the NPI on the profile ----------------------------------------------------------


@pytest.fixture
def therapist_client(app, therapist_user):
    c = app.test_client()
    login(c, therapist_user.email)
    return c


def profile_form(**changes):
    data = {
        "name": "Tess Therapist",
        "languages": "en",
        "techniques": "swedish",
        "price_60": "90",
        "postal_code": "60601",
        "npi": "",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "typed, stored", [("1234567893", "1234567893"), ("1234 5678 93", "1234567893"), ("123-456-7893", "1234567893")]
)
def test_a_therapist_adds_a_valid_npi(therapist_client, therapist_user, typed, stored):
    response = post_form(therapist_client, "/account/profile", profile_form(npi=typed))
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(TherapistProfile, therapist_user.therapist.id).npi == stored


@pytest.mark.parametrize(
    "typed, message",
    [
        ("1234567890", "its last digit does not match (check digit)"),
        ("12345", "An NPI is 10 digits"),
        ("NPI1234567", "An NPI is 10 digits"),
    ],
)
def test_a_wrong_npi_is_shown_at_its_field_and_nothing_is_saved(therapist_client, therapist_user, typed, message):
    response = post_form(therapist_client, "/account/profile", profile_form(npi=typed, bio="changed"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<ul class="field-errors" id="npi-error"><li>' in page and message in page
    assert 'aria-describedby="npi-error npi-hint"' in page
    db.session.expire_all()
    profile = db.session.get(TherapistProfile, therapist_user.therapist.id)
    assert profile.npi is None and profile.bio != "changed"


def test_an_npi_on_another_profile_is_refused(therapist_client, therapist_user, factory):
    factory.therapist(name="Other", npi="1234567893")
    response = post_form(therapist_client, "/account/profile", profile_form(npi="1234567893"))
    assert response.status_code == 409
    assert "NPI 1234567893 is already on another profile" in response.get_data(as_text=True)


def test_the_database_refuses_a_second_profile_with_the_same_npi_and_keeps_any_number_without(factory):
    # The unique index is partial (profiles with an NPI), so an import's profiles cost it nothing.
    (index,) = [i for i in inspect(db.engine).get_indexes("therapist_profiles") if i["column_names"] == ["npi"]]
    where = index["dialect_options"].get(f"{db.engine.dialect.name}_where")
    assert index["unique"] and "npi IS NOT NULL" in str(where)
    for name in ("A", "B", "C"):
        factory.therapist(name=f"No NPI {name}")
    assert db.session.scalar(select(func.count()).where(TherapistProfile.npi.is_(None))) >= 3
    factory.therapist(name="First", npi="1234567893")
    second = factory.therapist(name="Second")
    second.npi = "1234567893"
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_emptying_the_field_removes_the_npi_and_the_import_leaves_it_alone(therapist_client, therapist_user):
    post_form(therapist_client, "/account/profile", profile_form(npi="1234567893"))
    profile = db.session.get(TherapistProfile, therapist_user.therapist.id)
    # A CSV import row says nothing about the NPI: it stays.
    apply_profile(profile, ProfileData(name=profile.name, techniques=("swedish",), prices={}), _place(profile))
    assert profile.npi == "1234567893"
    db.session.rollback()
    page = therapist_client.get("/account/profile").get_data(as_text=True)
    assert 'value="1234567893"' in page and "NPI (National Provider Identifier)" in page
    post_form(therapist_client, "/account/profile", profile_form(npi=""))
    db.session.expire_all()
    assert db.session.get(TherapistProfile, therapist_user.therapist.id).npi is None


def _place(profile):
    from directory.geocoding import PracticePlace

    return PracticePlace(
        latitude=41.88,
        longitude=-87.62,
        label="Chicago, IL",
        address="",
        city="Chicago",
        state="IL",
        postal_code="60601",
        timezone="America/Chicago",
    )


# --- the NPPES import ----------------------------------------------------------------


def sample_rows():
    return [
        sample.row(
            MARIA,
            "GARCIA",
            "MARIA",
            "IL",
            [(sample.NURSE, "RN-1", "IL"), ("", "", ""), (sample.MASSAGE, "227.012345", "IL")],
        ),
        sample.row(sample.npi(2), "O'NEIL, JR", 'JAMES "JIM"', "NY", [(sample.MASSAGE, "MT-555", "NY")]),
        sample.row(sample.npi(3), "NURSE", "NORA", "IL", [(sample.NURSE, "RN-9", "IL")]),  # not a massage therapist
        sample.row(sample.npi(4), "", "", "TX", [(sample.MASSAGE, "", "")], entity="2", organisation="Spa LLC"),
        sample.row("1234567890", "BAD", "NPI", "TX", [(sample.MASSAGE, "X-1", "TX")]),  # fails the check digit
        sample.row(sample.npi(5), "LINE\nBREAK", "ANNA", "OR", [(sample.MASSAGE, "OR-7", "OR")]),
    ]


def run_import(runner, path, *extra):
    return runner.invoke(args=["registry", "import-nppes", str(path), *extra])


def test_import_keeps_individual_massage_therapists_with_their_licenses(runner, ctx, tmp_path):
    path = sample.write(tmp_path / "npidata_pfile_20050523-20261109.csv", sample_rows())
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert "Registry snapshot of 2026-11-09" in result.output
    assert "3 massage therapists with 4 licenses kept of 6 rows" in result.output
    assert "skipped 1 organisation and 1 invalid NPI." in result.output
    providers = {p.npi: p for p in db.session.scalars(select(RegistryProvider))}
    assert set(providers) == {MARIA, sample.npi(2), sample.npi(5)}
    assert (providers[MARIA].last_name, providers[MARIA].first_name, providers[MARIA].state) == (
        "GARCIA",
        "MARIA",
        "IL",
    )
    assert providers[sample.npi(2)].first_name == 'JAMES "JIM"'
    assert providers[sample.npi(5)].last_name == "LINE\nBREAK"  # a quoted line break is one record
    maria = [(lic.slot, lic.state, lic.number, lic.number_key) for lic in providers[MARIA].licenses]
    assert maria == [(1, "IL", "RN-1", "RN1"), (3, "IL", "227.012345", "227012345")]
    [snapshot] = db.session.scalars(select(RegistrySnapshot)).all()
    assert (snapshot.file_date, snapshot.rows_read, snapshot.providers) == (date(2026, 11, 9), 6, 3)
    assert snapshot.file_name == "npidata_pfile_20050523-20261109.csv"


def test_a_new_file_replaces_the_snapshot_and_a_bad_one_keeps_it(runner, ctx, tmp_path):
    run_import(runner, sample.write(tmp_path / "npidata_pfile_20050523-20261012.csv", sample_rows()))
    newer = [sample.row(sample.npi(9), "NEW", "NED", "IL", [(sample.MASSAGE, "IL-9", "IL")])]
    result = run_import(runner, sample.write(tmp_path / "npidata_pfile_20050523-20261109.csv", newer))
    assert result.exit_code == 0, result.output
    assert db.session.scalars(select(RegistryProvider.npi)).all() == [sample.npi(9)]
    assert db.session.scalar(select(func.count()).select_from(RegistryLicense)) == 1

    broken = tmp_path / "npidata_pfile_20050523-20261201.csv"
    broken.write_text('"NPI","Entity Type Code"\n"1234567893","1"\n')
    result = run_import(runner, broken)
    assert result.exit_code == 1
    assert "is not an NPPES provider file: missing columns 'Provider Last Name (Legal Name)'" in result.output
    twice = sample.write(tmp_path / "npidata_pfile_20050523-20261202.csv", sample_rows()[:1] * 2)
    result = run_import(runner, twice)
    assert result.exit_code == 1 and "lists one NPI more than once" in result.output
    db.session.expire_all()
    assert db.session.scalars(select(RegistryProvider.npi)).all() == [sample.npi(9)]
    assert [s.file_date for s in db.session.scalars(select(RegistrySnapshot).order_by(RegistrySnapshot.id))] == [
        date(2026, 10, 12),
        date(2026, 11, 9),
    ]


def test_the_file_date_comes_from_an_option_when_the_name_has_none(runner, ctx, tmp_path):
    path = sample.write(tmp_path / "massage.csv", sample_rows())
    result = run_import(runner, path)
    assert result.exit_code == 1 and "give --file-date YYYY-MM-DD" in result.output
    assert db.session.scalar(select(func.count()).select_from(RegistryProvider)) == 0
    result = run_import(runner, path, "--file-date", "2026-10-05")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(RegistrySnapshot.file_date)) == date(2026, 10, 5)
    result = run_import(runner, path, "--file-date", "05/10/2026")
    assert result.exit_code == 2 and "--file-date" in result.output


class CountingLines:
    """An NPPES file read line by line, counting how far the reader has got."""

    def __init__(self, path):
        self.fh = open(path, encoding="utf-8", newline="")  # noqa: SIM115
        self.read = 0

    def __iter__(self):
        for line in self.fh:
            self.read += 1
            yield line
        self.fh.close()


def test_the_import_streams_the_file_and_writes_in_batches(ctx, tmp_path):
    """Memory stays bounded: each batch is written once its rows are read, long before the file ends."""
    rows = []
    for n in range(1, 1001):
        taxonomy = sample.MASSAGE if n % 10 == 0 else sample.NURSE
        rows.append(sample.row(sample.npi(100 + n), f"LAST{n}", "FIRST", "IL", [(taxonomy, f"L-{n}", "IL")]))
    lines = CountingLines(sample.write(tmp_path / "big.csv", rows))
    read_at_insert = []

    def note_insert(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO REGISTRY_PROVIDERS"):
            read_at_insert.append(lines.read)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", note_insert)
    try:
        report = import_nppes(lines, file_name="big.csv", file_date=date(2026, 11, 9), batch_size=25)
    finally:
        event.remove(engine, "before_cursor_execute", note_insert)
    assert (report.rows_read, report.kept, report.licenses) == (1000, 100, 100)
    assert len(read_at_insert) >= 4  # 100 kept rows in batches of 25 (a driver may split a batch further)
    assert read_at_insert[0] <= 260  # the first batch went out after about a quarter of the file
    assert sorted(read_at_insert) == read_at_insert and read_at_insert[-1] == 1001


# --- evidence in the queue -----------------------------------------------------------


@pytest.fixture
def admin_client(app, make_user):
    admin = make_user(Role.ADMIN, "admin@example.com")
    c = app.test_client()
    login(c, admin.email)
    return c


def pending_license(factory, name, number, state="IL", npi=None):
    t = factory.therapist(name=name, state=state, license_status=CredentialStatus.PENDING, npi=npi, commit=False)
    t.licenses[0].number = number
    db.session.commit()
    return t


def item_text(page: str, number: str) -> str:
    start = page.index(f" {number}</h2>")
    return page[start : page.find("</article>", start)]


def test_the_queue_shows_what_the_registry_says_about_each_license(admin_client, factory, runner, tmp_path):
    run_import(runner, sample.write(tmp_path / "npidata_pfile_20050523-20261109.csv", sample_rows()))
    pending_license(factory, "Maria García", "227-012345", npi=MARIA)  # all four agree
    pending_license(factory, "Mary Garcia", "227-099999", npi=sample.npi(2))  # someone else's NPI
    pending_license(factory, "Nobody Known", "IL-404", npi=sample.npi(77))  # NPI not in the registry
    pending_license(factory, "No Npi", "MT-555", state="NY")  # no NPI; the number is listed
    page = admin_client.get("/admin/verifications").get_data(as_text=True)
    assert page.count("Checked against the NPPES file of November 9, 2026") == 4

    confirmed = item_text(page, "227-012345")
    assert "The registry confirms NPI, name, state and license number." in confirmed
    assert f"Massage therapist with NPI {MARIA}" in confirmed and "Name matches: MARIA GARCIA" in confirmed
    assert "License IL 227-012345 listed" in confirmed

    differs = unescape(item_text(page, "227-099999"))
    assert 'Name differs: the registry says JAMES "JIM" O\'NEIL, JR' in differs
    assert "No practice or license in IL on the record (practice: NY)" in differs
    assert "License IL 227-099999 not listed (the record lists NY MT-555)" in differs
    assert "does not confirm every detail" in differs

    assert f"No massage therapist with NPI {sample.npi(77)} in the registry." in item_text(page, "IL-404")
    unknown = unescape(item_text(page, "MT-555"))
    assert "The therapist gave no NPI." in unknown
    assert f'License NY MT-555 appears under NPI {sample.npi(2)} (JAMES "JIM" O\'NEIL, JR)' in unknown


def test_without_a_registry_file_the_queue_says_how_to_import_one(admin_client, factory):
    pending_license(factory, "Maria Garcia", "227-012345", npi=MARIA)
    page = admin_client.get("/admin/verifications").get_data(as_text=True)
    assert "No registry file imported yet" in page and "flask registry import-nppes FILE" in page
