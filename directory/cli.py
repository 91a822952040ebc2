"""Flask commands, grouped: `flask therapists import`, `flask demo seed`, `flask registry import-nppes`."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import click
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask.cli import AppGroup

from . import outbox
from .admin.services import create_admin
from .extensions import db
from .feeds import bulk
from .registry.nppes import file_date_from_name, import_nppes, text_lines
from .schedule import expire_licenses_today
from .service_errors import ServiceError
from .therapists import export
from .therapists.bulk import vacuum
from .therapists.demo import seed_demo, therapist_count
from .therapists.importer import VACUUM_AFTER, Progress, import_therapists
from .therapists.listing import refresh_all
from .therapists.visibility import Audience

therapists_cli = AppGroup("therapists", help="Manage therapist profiles.")
demo_cli = AppGroup("demo", help="Demo data for trying the site.")


@therapists_cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--verified", is_flag=True, help="Mark the imported licenses and certifications verified today.")
def import_command(csv_file: str, verified: bool) -> None:
    """Import therapists from CSV_FILE (all rows or none)."""

    started = time.monotonic()
    # Bytes that are not UTF-8 are read as stand-ins the import reports by line.
    with (
        open(csv_file, encoding="utf-8-sig", errors="surrogateescape", newline="") as fh,
        import_progress(fh, os.path.getsize(csv_file), sys.stderr) as progress,
    ):
        report = import_therapists(fh, current_app.extensions["geocoder"], verified=verified, progress=progress)
    seconds = max(time.monotonic() - started, 1e-3)
    if not report.ok:
        for line, message in report.errors:
            click.echo(f"line {line}: {message}", err=True)
        listed = (
            "listed above" if report.error_count == len(report.errors) else f"the first {len(report.errors):,} above"
        )
        raise click.ClickException(
            f"nothing imported: {report.error_count:,} row{'s' if report.error_count != 1 else ''} "
            f"need fixing ({listed})."
        )
    rows = report.created + report.updated
    click.echo(
        f"Imported {rows:,} therapists: {report.created:,} new, {report.updated:,} updated"
        f"{' (licenses and certifications verified)' if verified else ''} in {seconds:.1f} s "
        f"({rows / seconds:,.0f} rows/s)."
    )


@therapists_cli.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(bulk.FORMATS),
    required=True,
    help="csv: the import format; hsds, fhir: ndjson.",
)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="File to write (default: standard output).")
@click.option(
    "--private",
    is_flag=True,
    help="CSV only: a backup for the admin, with the street and exact position of home practices "
    "that show only their area (the default leaves them out, as every public output does). Keep it private.",
)
def export_command(fmt: str, out: str | None, private: bool) -> None:
    """Write every listed therapist: CSV in the import format, or HSDS / FHIR records, one JSON a line.

    Every export is public unless --private: a home practice that shows only its
    area is written without its street, at its area's centre. Only a --private CSV
    imports back unchanged (a backup)."""
    if private and fmt != "csv":
        raise click.UsageError("--private applies to the CSV export only: HSDS and FHIR are public records.")

    total = export.count(export.listable())
    # The progress bar only on a terminal: a pipe or a log gets nothing but the summary.
    bar = click.progressbar(length=total, label=f"Exporting {fmt}", file=sys.stderr) if sys.stderr.isatty() else None
    with (
        open(out, "w", encoding="utf-8", newline="") if out else nullcontext(sys.stdout) as fh,
        bar if bar is not None else nullcontext(),
    ):
        audience = Audience.ADMIN if private else Audience.PUBLIC
        for line in bulk.lines(fmt, _counted(export.iter_directory(), bar), audience):
            fh.write(line)
    kind = "private backup CSV" if private else fmt
    click.echo(f"Exported {total} therapists as {kind}{f' to {out}' if out else ''}.", err=True)


def _counted(practices, bar):
    for practice in practices:
        yield practice
        if bar is not None:
            bar.update(1)


@contextmanager
def import_progress(fh, total_bytes: int, stream) -> Iterator[Progress | None]:
    """A progress bar with rows/s on `stream` when it is a terminal; nothing otherwise
    (the command's summary line says how it went)."""
    if not stream.isatty():
        yield None
        return
    started, rows = time.monotonic(), 0

    def rate(_item) -> str:
        return f"{rows:,} rows, {rows / max(time.monotonic() - started, 1e-3):,.0f} rows/s"

    length = max(total_bytes, 1)
    with click.progressbar(length=length, label="Checking", file=stream, item_show_func=rate) as bar:

        def update(phase: str, count: int) -> None:
            nonlocal rows
            rows = count
            if phase == "writing":
                bar.label = "Writing"
                bar.update(length - bar.pos)
                bar.render_progress()  # the file is read: the bar is full, the label says what goes on
            else:
                bar.update(max(fh.buffer.tell() - bar.pos, 0))

        yield update


@therapists_cli.command("reindex")
def reindex_command() -> None:
    """Recompute every profile's listing summary (after SQL run outside the app)."""

    count = refresh_all(db.session())
    db.session.commit()
    if count >= VACUUM_AFTER:
        vacuum(db.engine)  # the search's index-only scan needs the visibility map current
    click.echo(f"Recomputed the listing summary of {count} therapists.")


@demo_cli.command("seed")
@click.option("--count", default=500, show_default=True, type=click.IntRange(1, 5_000_000))
@click.option("--seed", "seed", default=2026, show_default=True, type=int, help="Same seed, same therapists.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has therapists.")
def seed_command(count: int, seed: int, if_empty: bool) -> None:
    """Create realistic demo therapists in US metros."""

    existing = therapist_count()
    if if_empty and existing:
        click.echo(f"The database already has {existing} therapists; no demo data added.")
        return
    counts = seed_demo(count=count, seed=seed)
    click.echo(
        f"Created {count} demo therapists: {counts['listed']} listed, {counts['pending']} awaiting "
        f"verification, {counts['expired']} with an expired license, {counts['suspended']} suspended."
    )


users_cli = AppGroup("users", help="Manage accounts.")
licenses_cli = AppGroup("licenses", help="License housekeeping (run daily).")


@users_cli.command("create-admin")
@click.argument("email")
@click.option("--password-file", type=click.File("r"), help="Read the password from this file instead of a prompt.")
@click.option("--promote", is_flag=True, help="Make an existing account an admin.")
def create_admin_command(email: str, password_file, promote: bool) -> None:
    """Create an administrator (the only way to make the first one)."""
    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise click.ClickException(f"{email!r} is not a valid email address: {exc}") from None
    if password_file is not None:
        password = password_file.read().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_admin(email, password, promote=promote)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{user.email} is an administrator.")


@licenses_cli.command("expire")
def expire_command() -> None:
    """Mark lapsed licenses expired; send reminders 30 and 7 days before expiry (once each).

    The same job Celery beat runs daily; each reminder leaves right after its commit."""
    counts = expire_licenses_today()
    click.echo(
        f"{counts['expired']} licenses marked expired; reminders sent: {counts['reminded_30']} at 30 days, "
        f"{counts['reminded_7']} at 7 days; {counts['bookings_settled']} future bookings of therapists no longer "
        "listed declined or cancelled."
    )


registry_cli = AppGroup("registry", help="The federal NPPES registry, the evidence beside license decisions.")


@registry_cli.command("import-nppes")
@click.argument("nppes_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--file-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The date the file covers (YYYY-MM-DD); read from an npidata_pfile_YYYYMMDD-YYYYMMDD.csv name otherwise.",
)
def import_nppes_command(nppes_file: str, file_date) -> None:
    """Replace the registry snapshot with the massage therapists (taxonomy 225700000X) in NPPES_FILE."""
    name = os.path.basename(nppes_file)
    when = file_date.date() if file_date else file_date_from_name(name)
    if when is None:
        raise click.ClickException(
            f"{name} does not say its date (npidata_pfile_YYYYMMDD-YYYYMMDD.csv): give --file-date YYYY-MM-DD."
        )
    try:
        with open(nppes_file, "rb") as fh:
            report = import_nppes(text_lines(fh, file_name=name), file_name=name, file_date=when)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Registry snapshot of {when:%Y-%m-%d} ({name}): {_count(report.kept, 'massage therapist')} with "
        f"{_count(report.licenses, 'license')} kept of {_count(report.rows_read, 'row')}; skipped "
        f"{_count(report.organisations, 'organisation')} and {_count(report.invalid, 'invalid NPI')}. "
        "The previous snapshot is replaced."
    )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


jobs_cli = AppGroup("jobs", help="The outbox of mail and jobs.")


@jobs_cli.command("deliver")
@click.option("--loop", is_flag=True, help="Keep delivering, every few seconds, until stopped.")
def deliver_command(loop: bool) -> None:
    """Deliver every due mail and job of the outbox (what the worker or the web process's thread does)."""
    while True:
        result = outbox.deliver_all_due()
        click.echo(f"{result.sent} delivered, {result.failed} failed (tried again later).")
        if not loop:
            return
        time.sleep(5)


def register_cli(app) -> None:
    app.cli.add_command(jobs_cli)
    app.cli.add_command(therapists_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(licenses_cli)
    app.cli.add_command(registry_cli)
