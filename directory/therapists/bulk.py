"""Set-based writes for the therapist import: staging tables, one check, a few statements.

The import (importer.py) checks each row by the profile service's rules
(profiles.py) and hands the checked rows here a chunk at a time. They go into
temporary staging tables, by COPY on PostgreSQL and executemany on SQLite, so
Python holds one chunk whatever the length of the file. Then, over the whole
file at once and inside the import's one transaction:

- `resolve` finds each row's license, account and profile with a join per
  kind, not a query per row;
- `problems` is one query for the rows that repeat a license, an email or a
  therapist of an earlier row, and for rows that clash with existing accounts
  (an email held by someone else, a claimed account whose email would change);
- `write` inserts and updates users, profiles, licenses, techniques, prices
  and certifications set-based, with each profile's listing summary (the
  strings of matching/summary.py that therapists/listing.py keeps).

The credential transitions are the models' (`submit`: a changed license waits
for an administrator again; `verify`, with `--verified`), stated here as SQL
for many rows at once.
"""

from __future__ import annotations

import logging
import typing
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from ..models import (
    Certification,
    CredentialStatus,
    License,
    Role,
    SessionPrice,
    TherapistProfile,
    TherapistTechnique,
    User,
    UTCDateTime,
)


def _table(model) -> Table:
    return typing.cast(Table, model.__table__)


log = logging.getLogger(__name__)
USERS, PROFILES, LICENSES = _table(User), _table(TherapistProfile), _table(License)
CERTIFICATIONS, TECHNIQUES, PRICES = _table(Certification), _table(TherapistTechnique), _table(SessionPrice)
TOUCHED = (USERS, PROFILES, LICENSES, CERTIFICATIONS, TECHNIQUES, PRICES)

# The profile columns a row sets (years of experience is not in the file: an update keeps it),
# and the listing summary.
PROFILE_FIELDS = (
    "name",
    "bio",
    "gender",
    "languages",
    "hsa_fsa",
    "accepting_new_clients",
    "mobile_radius_miles",
    "latitude",
    "longitude",
    "timezone",
    "address",
    "city",
    "state",
    "postal_code",
    "location_label",
)
SUMMARY_FIELDS = ("listed_until", "search_techniques", "search_certifications", "search_prices")
VERIFIED, PENDING = CredentialStatus.VERIFIED.value, CredentialStatus.PENDING.value


def _like(table: Table, name: str, as_name: str | None = None, **kw) -> Column:
    return Column(as_name or name, table.c[name].type, **kw)


_staging = MetaData()
TEMPORARY_TABLE: dict[str, typing.Any] = {"prefixes": ["TEMPORARY"], "postgresql_on_commit": "DROP"}
ROWS = Table(
    "import_rows",
    _staging,
    Column("line", Integer, primary_key=True),
    _like(USERS, "email"),
    *(_like(PROFILES, name) for name in PROFILE_FIELDS + SUMMARY_FIELDS),
    _like(LICENSES, "number", "license_number"),
    _like(LICENSES, "state", "license_state"),
    _like(LICENSES, "expires_on", "license_expires"),
    _like(LICENSES, "credential"),
    Column("new_profile", Boolean),
    # Found by `resolve`: the row's license, the account holding the license (owner),
    # the account holding the row's email (holder), the account and profile written.
    Column("license_id", Integer),
    Column("owner_id", Integer),
    Column("holder_id", Integer),
    Column("user_id", Integer),
    Column("profile_id", Integer, index=True),
    **TEMPORARY_TABLE,
)
ROW_TECHNIQUES = Table(
    "import_techniques",
    _staging,
    Column("line", Integer, primary_key=True),
    _like(TECHNIQUES, "technique", primary_key=True),
    **TEMPORARY_TABLE,
)
ROW_CERTIFICATIONS = Table(
    "import_certifications",
    _staging,
    Column("line", Integer, primary_key=True),
    _like(CERTIFICATIONS, "slug", primary_key=True),
    **TEMPORARY_TABLE,
)
ROW_PRICES = Table(
    "import_prices",
    _staging,
    Column("line", Integer, primary_key=True),
    _like(PRICES, "minutes", primary_key=True),
    _like(PRICES, "amount"),
    **TEMPORARY_TABLE,
)
STAGING = (ROWS, ROW_TECHNIQUES, ROW_CERTIFICATIONS, ROW_PRICES)
RESOLVED = ("license_id", "owner_id", "holder_id", "user_id", "profile_id")
LOADED = tuple(c.name for c in ROWS.c if c.name not in RESOLVED)


@dataclass(frozen=True)
class StagedRow:
    """One checked row as stored: `values` holds every column of LOADED (the
    summary as a new profile would have it), and its lists."""

    values: dict
    techniques: tuple[str, ...]
    certifications: tuple[str, ...]
    prices: dict[int, Decimal]


class BulkWriter:
    """The staging tables of one import, on the import's connection (its transaction)."""

    def __init__(self, conn: Connection, *, verified: bool, now: datetime, via: str):
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"
        self.verified, self.via = verified, via
        self.now = literal(now, UTCDateTime())
        self.staged = 0
        if self.postgres:
            # Room for the sorts and hashes over the whole file, and no JIT compiling (seconds
            # spent on statements whose cost is mostly writing); this transaction only.
            conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")
            conn.exec_driver_sql("SET LOCAL jit = off")
        elif not conn.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
            # pysqlite begins a transaction only at the first write: begin it now, so that
            # a rollback takes the staging tables with it, as on PostgreSQL.
            conn.exec_driver_sql("BEGIN")
        for table in STAGING:
            table.drop(conn, checkfirst=True)
            table.create(conn)

    def discard(self) -> None:
        """Drop the staging tables before a commit (PostgreSQL drops them itself at commit)."""
        if not self.postgres:
            for table in STAGING:
                table.drop(self.conn, checkfirst=True)

    # Loading.

    def stage(self, rows: list[StagedRow]) -> None:
        lists = {
            ROWS: [tuple(row.values[c] for c in LOADED) for row in rows],
            ROW_TECHNIQUES: [(row.values["line"], t) for row in rows for t in row.techniques],
            ROW_CERTIFICATIONS: [(row.values["line"], c) for row in rows for c in row.certifications],
            ROW_PRICES: [(row.values["line"], m, a) for row in rows for m, a in row.prices.items()],
        }
        for table, tuples in lists.items():
            columns = LOADED if table is ROWS else tuple(c.name for c in table.c)
            if tuples:
                self._load(table, columns, tuples)
        self.staged += len(rows)

    def _load(self, table: Table, columns: tuple[str, ...], tuples: list[tuple]) -> None:
        if self.postgres:
            cursor = self.conn.connection.cursor()
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for item in tuples:
                    copy.write_row(item)
        else:
            self.conn.execute(insert(table), [dict(zip(columns, item)) for item in tuples])

    # Finding what each row is, and what is wrong.

    def resolve(self) -> None:
        """Each row's license, owner, email holder and profile, by one join each."""
        s, run = ROWS.c, self.conn.execute
        self._analyze("license_state", "license_number", "email")
        run(
            update(ROWS)
            .values(license_id=LICENSES.c.id, profile_id=LICENSES.c.therapist_id)
            .where(LICENSES.c.state == s.license_state, LICENSES.c.number == s.license_number)
        )
        run(
            update(ROWS)
            .values(owner_id=PROFILES.c.user_id, user_id=PROFILES.c.user_id)
            .where(PROFILES.c.id == s.profile_id)
        )
        run(
            update(ROWS)
            .values(holder_id=USERS.c.id, user_id=func.coalesce(s.user_id, USERS.c.id))
            .where(USERS.c.email == s.email)
        )
        run(
            update(ROWS)
            .values(profile_id=PROFILES.c.id)
            .where(s.profile_id.is_(None), PROFILES.c.user_id == s.holder_id)
        )
        self._analyze(*RESOLVED)

    def _analyze(self, *columns: str) -> None:
        """Statistics on the staging columns the next statements select by (autovacuum never
        sees a temporary table): without them PostgreSQL guesses, and on a re-import of every
        row it guesses a plan of index probes. A few columns cost a fraction of the whole row."""
        if self.postgres:
            self.conn.exec_driver_sql(f"ANALYZE {ROWS.name} ({', '.join(columns)})")

    def problems(self):
        """(line, message) for every row that cannot be written, in line order."""
        s = ROWS.c
        first = select(
            s.line,
            s.email,
            s.license_state,
            s.license_number,
            s.owner_id,
            s.holder_id,
            s.profile_id,
            func.min(s.line).over(partition_by=(s.license_state, s.license_number)).label("license_line"),
        ).subquery()
        kept = case((first.c.line == first.c.license_line, first.c.line))
        second = select(
            first,
            func.min(kept).over(partition_by=first.c.email).label("email_line"),
            func.min(kept).over(partition_by=first.c.profile_id).label("profile_line"),
        ).subquery()
        r = second.c
        owner, holder = USERS.alias("owner"), USERS.alias("holder")
        claimed = and_(owner.c.email != r.email, owner.c.password_hash.is_not(None))
        other_therapist = and_(r.owner_id.is_not(None), r.holder_id.is_not(None), r.owner_id != r.holder_id)
        query = (
            select(*r, claimed.label("claimed"), holder.c.role.label("holder_role"), other_therapist.label("other"))
            .select_from(
                second.outerjoin(owner, owner.c.id == r.owner_id).outerjoin(holder, holder.c.id == r.holder_id)
            )
            .where(
                or_(
                    r.line != r.license_line,
                    r.line != r.email_line,
                    and_(r.profile_id.is_not(None), r.line != r.profile_line),
                    claimed,
                    holder.c.role != Role.THERAPIST,
                    other_therapist,
                )
            )
            .order_by(r.line)
        )
        for row in self.conn.execute(query.execution_options(yield_per=1000)):
            yield row.line, _message(row)

    def created(self) -> int:
        """How many rows bring a license not yet on file (the others update)."""
        return self.conn.scalar(select(func.count()).select_from(ROWS).where(ROWS.c.license_id.is_(None))) or 0

    # Writing.

    def write(self) -> None:
        self._write_users()
        self._write_new_profiles()
        self._write_licenses()
        self._replace_lists()
        self._write_existing_profiles()

    def _write_users(self) -> None:
        s, u, run = ROWS.c, USERS.c, self.conn.execute
        run(
            update(USERS)
            .values(email=s.email, name=s.name)
            .where(u.id == s.user_id, or_(u.email != s.email, u.name != s.name))
        )
        run(
            insert(USERS).from_select(
                ["email", "role", "name", "created_at"],
                select(s.email, literal(Role.THERAPIST, u.role.type), s.name, self.now).where(s.user_id.is_(None)),
            )
        )
        run(update(ROWS).values(user_id=u.id).where(s.user_id.is_(None), u.email == s.email))

    def _write_new_profiles(self) -> None:
        s, run = ROWS.c, self.conn.execute
        fields = PROFILE_FIELDS + SUMMARY_FIELDS
        run(
            insert(PROFILES).from_select(
                ["user_id", *fields, "rating_count", "created_at", "updated_at"],
                select(s.user_id, *(s[f] for f in fields), literal(0), self.now, self.now).where(
                    s.profile_id.is_(None)
                ),
            )
        )
        run(
            update(ROWS)
            .values(profile_id=PROFILES.c.id, new_profile=True)
            .where(s.profile_id.is_(None), PROFILES.c.user_id == s.user_id)
        )
        self._analyze("profile_id", "new_profile")

    def _verified_columns(self) -> tuple:
        """status, verified_at and verified_via of a credential this import creates."""
        if self.verified:
            return literal(VERIFIED), self.now, literal(self.via)
        return literal(PENDING), null(), null()

    def _write_licenses(self) -> None:
        s, lic, run = ROWS.c, LICENSES.c, self.conn.execute
        run(
            insert(LICENSES).from_select(
                ["therapist_id", "number", "state", "expires_on", "credential", "status", "verified_at"]
                + ["verified_via", "submitted_at"],
                select(
                    s.profile_id,
                    s.license_number,
                    s.license_state,
                    s.license_expires,
                    s.credential,
                    *self._verified_columns(),
                    self.now,
                ).where(s.license_id.is_(None)),
            )
        )
        # A change to what was checked sends the license back to pending (`submit`);
        # --verified then verifies it, and any license not yet verified (`verify`).
        changed = or_(lic.expires_on != s.license_expires, lic.credential.is_distinct_from(s.credential))
        resubmit = and_(changed, lic.status != PENDING)
        decide = or_(changed, lic.status != VERIFIED) if self.verified else resubmit
        when = lambda value, otherwise: case((decide, value), else_=otherwise)
        run(
            update(LICENSES)
            .values(
                expires_on=s.license_expires,
                credential=s.credential,
                submitted_at=case((resubmit, self.now), else_=lic.submitted_at),
                status=when(literal(VERIFIED if self.verified else PENDING), lic.status),
                verified_at=when(self.now if self.verified else null(), lic.verified_at),
                verified_by_id=when(null(), lic.verified_by_id),
                verified_via=when(literal(self.via) if self.verified else null(), lic.verified_via),
                rejection_reason=when(null(), lic.rejection_reason),
            )
            .where(lic.id == s.license_id, or_(changed, decide))
        )

    def _replace_lists(self) -> None:
        """Techniques, prices and certifications become the row's; kept items stay as they are."""
        s, run = ROWS.c, self.conn.execute
        old_profiles = select(s.profile_id).where(s.new_profile.is_(False))
        t, p, c = ROW_TECHNIQUES.c, ROW_PRICES.c, ROW_CERTIFICATIONS.c
        lists = (
            (TECHNIQUES, ROW_TECHNIQUES, "technique", {"technique": t.technique}, False),
            (PRICES, ROW_PRICES, "minutes", {"minutes": p.minutes, "amount": p.amount}, True),
            (CERTIFICATIONS, ROW_CERTIFICATIONS, "slug", self._new_certifications(c.slug), False),
        )
        upsert = postgresql.insert if self.postgres else sqlite.insert
        for target, staged, key, columns, update_kept in lists:
            listed = exists().where(
                staged.c.line == s.line, s.profile_id == target.c.therapist_id, staged.c[key] == target.c[key]
            )
            run(delete(target).where(target.c.therapist_id.in_(old_profiles), ~listed))
            names = ["therapist_id", *columns]
            rows = select(s.profile_id, *columns.values()).where(staged.c.line == s.line)
            # New profiles hold nothing yet: a plain insert, cheaper than one that looks for conflicts.
            run(insert(target).from_select(names, rows.where(s.new_profile.is_(True))))
            kept = upsert(target).from_select(names, rows.where(s.new_profile.is_(False)))
            if update_kept:
                kept = kept.on_conflict_do_update(
                    index_elements=["therapist_id", key],
                    set_={"amount": kept.excluded.amount},
                    where=target.c.amount != kept.excluded.amount,
                )
            run(kept.on_conflict_do_nothing() if not update_kept else kept)
        if self.verified:
            cert = CERTIFICATIONS.c
            run(
                update(CERTIFICATIONS)
                .values(
                    status=VERIFIED,
                    verified_at=self.now,
                    verified_by_id=None,
                    verified_via=self.via,
                    rejection_reason=None,
                )
                .where(cert.therapist_id == s.profile_id, s.new_profile.is_(False), cert.status != VERIFIED)
            )

    def _new_certifications(self, slug) -> dict:
        status, verified_at, via = self._verified_columns()
        return {
            "slug": slug,
            "status": status,
            "verified_at": verified_at,
            "verified_via": via,
            "submitted_at": self.now,
        }

    def _write_existing_profiles(self) -> None:
        """The row's fields and the summary, on profiles that were there before; only where something changed."""
        s, p, run = ROWS.c, PROFILES.c, self.conn.execute
        lic = LICENSES.c
        latest = select(func.max(lic.expires_on)).where(lic.therapist_id == s.profile_id, lic.status == VERIFIED)
        run(
            update(ROWS)
            .values(
                listed_until=latest.scalar_subquery(),
                search_certifications=func.coalesce(self._certifications_text(s.profile_id), ""),
            )
            .where(s.new_profile.is_(False))
        )
        target: dict[str, typing.Any] = {f: s[f] for f in PROFILE_FIELDS + SUMMARY_FIELDS}
        target["listed_until"] = case((p.suspended_at.is_(None), s.listed_until))
        run(
            update(PROFILES)
            .values(**target, updated_at=self.now)
            .where(
                p.id == s.profile_id,
                s.new_profile.is_(False),
                or_(*(p[f].is_distinct_from(value) for f, value in target.items())),
            )
        )

    def _certifications_text(self, profile_id):
        """summary.certifications_text in SQL: verified slugs, `slug@YYYY-MM-DD` when they expire, sorted."""
        c = CERTIFICATIONS.c
        mine = and_(c.therapist_id == profile_id, c.status == VERIFIED)
        if self.postgres:
            day = func.to_char(c.expires_on, "YYYY-MM-DD", type_=String)
            item = c.slug + func.coalesce(literal("@") + day, "")
            joined = func.string_agg(item, postgresql.aggregate_order_by(literal_column("','"), item.collate("C")))
            return select(joined).where(mine).scalar_subquery()
        item = c.slug + func.coalesce(literal("@") + cast(c.expires_on, String), "")
        whole = func.group_concat(item, ",").over(order_by=item, rows=(None, None))
        return select(whole).where(mine).limit(1).scalar_subquery()


def _message(row) -> str:
    license = f"license {row.license_state} {row.license_number}"
    if row.line != row.license_line:
        return f"{license} already appears on line {row.license_line}"
    if row.line != row.email_line:
        return f"email {row.email} already appears on line {row.email_line}"
    if row.claimed:
        return (
            f"{license} belongs to an account its therapist has claimed; an import never changes that "
            f"account's email ({row.email} given)"
        )
    if row.holder_role is not None and row.holder_role != Role.THERAPIST:
        return f"email {row.email} belongs to an existing {Role(row.holder_role).value} account"
    if row.other:
        return f"email {row.email} belongs to a different therapist"
    return (
        f"the therapist of this row (by its license or email) is also on line {row.profile_line}: "
        "give each therapist one row"
    )


def vacuum(engine: Engine) -> None:
    """After a bulk write, outside its transaction: fresh statistics, and the visibility map
    that lets the search read its candidates from the index alone (an index-only scan)."""
    if engine.dialect.name != "postgresql":
        return
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE) " + ", ".join(t.name for t in TOUCHED))
    except DBAPIError:
        # The import is committed; autovacuum will get there. Say so rather than fail.
        log.warning("VACUUM (ANALYZE) after the import failed; autovacuum will catch up", exc_info=True)
