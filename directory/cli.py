"""Flask commands, grouped: `flask therapists import`, `flask demo seed`."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from datetime import date

import click
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask.cli import AppGroup

from .admin.emails import expiry_reminder
from .admin.services import create_admin, expire_and_remind
from .extensions import db
from .feeds import bulk
from .service_errors import ServiceError
from .therapists import export
from .therapists.demo import seed_demo, therapist_count
from .therapists.importer import import_therapists
from .therapists.listing import refresh_all

therapists_cli = AppGroup("therapists", help="Manage therapist profiles.")
demo_cli = AppGroup("demo", help="Demo data for trying the site.")


@therapists_cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--verified", is_flag=True, help="Mark the imported licenses and certifications verified today.")
def import_command(csv_file: str, verified: bool) -> None:
    """Import therapists from CSV_FILE (all rows or none)."""

    try:
        with open(csv_file, encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{csv_file} is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV.") from None
    report = import_therapists(text, current_app.extensions["geocoder"], verified=verified)
    if not report.ok:
        for line, message in report.errors:
            click.echo(f"line {line}: {message}", err=True)
        raise click.ClickException(
            f"nothing imported: {len(report.errors)} row{'s' if len(report.errors) != 1 else ''} "
            "need fixing (listed above)."
        )
    click.echo(
        f"Imported {report.created + report.updated} therapists: {report.created} new, "
        f"{report.updated} updated{' (licenses and certifications verified)' if verified else ''}."
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
def export_command(fmt: str, out: str | None) -> None:
    """Write every listed therapist: CSV that `import` reads back, or HSDS / FHIR records, one JSON a line."""

    total = export.count(export.listable())
    base_url = current_app.config.get("PUBLIC_URL") or "http://localhost:5000"
    # The progress bar only on a terminal: a pipe or a log gets nothing but the summary.
    bar = click.progressbar(length=total, label=f"Exporting {fmt}", file=sys.stderr) if sys.stderr.isatty() else None
    with (
        open(out, "w", encoding="utf-8", newline="") if out else nullcontext(sys.stdout) as fh,
        current_app.test_request_context(base_url=base_url),  # absolute links in the records
        bar if bar is not None else nullcontext(),
    ):
        for line in bulk.lines(fmt, _counted(export.iter_directory(), bar)):
            fh.write(line)
    click.echo(f"Exported {total} therapists as {fmt}{f' to {out}' if out else ''}.", err=True)


def _counted(practices, bar):
    for practice in practices:
        yield practice
        if bar is not None:
            bar.update(1)


@therapists_cli.command("reindex")
def reindex_command() -> None:
    """Recompute every profile's listing summary (after SQL run outside the app)."""

    count = refresh_all(db.session())
    db.session.commit()
    click.echo(f"Recomputed the listing summary of {count} therapists.")


@demo_cli.command("seed")
@click.option("--count", default=500, show_default=True, type=click.IntRange(1, 100_000))
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
    """Mark lapsed licenses expired; send reminders 30 and 7 days before expiry (once each)."""
    with current_app.test_request_context(base_url=current_app.config.get("PUBLIC_URL") or "http://localhost:5000"):
        counts = expire_and_remind(date.today(), expiry_reminder)
    click.echo(
        f"{counts['expired']} licenses marked expired; reminders sent: {counts['reminded_30']} at 30 days, "
        f"{counts['reminded_7']} at 7 days."
    )


def register_cli(app) -> None:
    app.cli.add_command(therapists_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(licenses_cli)
