"""`flask therapists export`: the CSV round-trips through the import; the HSDS
and FHIR ndjson lines are valid records; the directory is read in chunks."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import text

from directory.extensions import db
from directory.therapists import export
from directory.therapists.importer import COLUMNS

from .feeds_data import directory
from .test_feeds_fhir import checked
from .test_feeds_hsds import valid


def run_export(runner, *args: str):
    result = runner.invoke(args=["therapists", "export", *args])
    assert result.exit_code == 0, result.output
    return result


def empty_database() -> None:
    db.session.remove()
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        for table in tables:
            conn.execute(text(f'DELETE FROM "{table}"'))


def test_csv_export_imports_back_and_exports_the_same(runner, factory, tmp_path):
    directory(factory)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    result = run_export(runner, "--format", "csv", "--out", str(first))
    assert "Exported 2 therapists as csv" in result.stderr
    empty_database()
    imported = runner.invoke(args=["therapists", "import", str(first), "--verified"])
    assert imported.exit_code == 0, imported.output
    assert "Imported 2 therapists: 2 new" in imported.output
    run_export(runner, "--format", "csv", "--out", str(second))
    assert second.read_bytes() == first.read_bytes()


def test_csv_is_the_import_format_with_listed_therapists_only(runner, factory):
    people = directory(factory)
    result = run_export(runner, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == COLUMNS
    assert [r["name"] for r in rows] == [people["full"].name, people["plain"].name]
    ana = rows[0]
    assert (ana["techniques"], ana["certifications"], ana["languages"]) == ("prenatal;swedish", "prenatal", "en;es")
    assert (ana["price_30"], ana["price_45"], ana["price_60"], ana["price_90"]) == ("55.00", "", "95.00", "130.00")
    assert (ana["hsa_fsa"], ana["accepting_new_clients"], ana["mobile_radius_miles"]) == ("yes", "yes", "12.5")
    assert (ana["latitude"], ana["longitude"], ana["postal_code"]) == ("41.8858", "-87.6181", "60601")
    assert ana["license_number"] == people["full"].licenses[0].number


def test_hsds_export_is_one_valid_service_a_line(runner, factory):
    people = directory(factory)
    lines = run_export(runner, "--format", "hsds").stdout.splitlines()
    services = [valid("service", json.loads(line)) for line in lines]
    assert [s["organization"]["name"] for s in services] == [people["full"].name, people["plain"].name]
    assert services[0]["schedules"] and services[0]["url"].startswith("http://localhost/therapists/")


def test_fhir_export_is_the_six_plan_net_resources_of_each_therapist(runner, factory):
    people = directory(factory)
    lines = run_export(runner, "--format", "fhir").stdout.splitlines()
    resources = [checked(json.loads(line)) for line in lines]
    assert [(r["resourceType"], r["id"]) for r in resources] == [
        (kind, str(people[who].id))
        for who in ("full", "plain")
        for kind in ("Practitioner", "PractitionerRole", "Location", "Organization", "HealthcareService", "Endpoint")
    ]


def test_an_empty_directory_exports_a_header_only(runner, ctx):
    result = run_export(runner, "--format", "csv")
    assert result.stdout.splitlines() == [",".join(COLUMNS)]
    assert run_export(runner, "--format", "hsds").stdout == ""


def test_the_directory_is_read_in_chunks_and_each_chunk_let_go(factory):
    people = directory(factory)
    expected = [people["full"].id, people["plain"].id]
    db.session.expunge_all()
    seen = []
    for practice in export.iter_directory(chunk=1):
        seen.append(practice.profile.id)
        # only the current chunk (one profile, its user and children) is held by the session
        profiles = [o for o in db.session.identity_map.values() if type(o).__name__ == "TherapistProfile"]
        assert len(profiles) == 1
    assert seen == expected


def test_unknown_format_is_refused(runner):
    result = runner.invoke(args=["therapists", "export", "--format", "xml"])
    assert result.exit_code == 2 and "csv" in result.output
