"""Set-based writes for the therapist import: a chunk at a time, checked, then written.

The import (importer.py) checks each row by the profile service's rules
(profiles.py) and hands the checked rows here a chunk at a time, inside the
import's one transaction. For each chunk, with a few statements whatever its
length:

1. **load**: the rows go into temporary chunk tables (COPY on PostgreSQL, the
   driver's executemany on SQLite), emptied for the next chunk, so neither
   Python nor the staging grows with the file;
2. **resolve**: one INSERT ... SELECT finds each row's license, the account
   holding the license (owner), the account holding its email (holder) and the
   profile, and gives rows that bring a new account or profile its id up front
   (the tables' own sequence on PostgreSQL, max(id) + n on SQLite, whose writer
   holds the database's one write lock), into `import_keys`, which keeps one
   narrow row per line for the whole file;
3. **check**: one query, by index, for the rows that repeat a license, an email
   or a therapist of an earlier line of the file (`import_keys`, this chunk
   included), and for rows that clash with existing accounts (an email held by
   someone else, a claimed account whose email would change);
4. **write**, while no row of the file so far has a problem: users, profiles,
   licenses, techniques, prices and certifications, inserted and updated
   set-based, with each profile's listing summary (the strings of
   matching/summary.py that therapists/listing.py keeps).

Any problem anywhere and the import rolls back: nothing is written. Once one
is found the later chunks are still loaded and checked (every bad row is
reported) but no longer written. An email an earlier chunk took off an account
stays that therapist's for the rest of the file (`import_freed`), so the
checks give the answer they would give over the whole file at once.

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
    bindparam,
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
from .visibility import shown_position_sql


def table_of(model) -> Table:
    return typing.cast(Table, model.__table__)


log = logging.getLogger(__name__)
USERS, PROFILES, LICENSES = table_of(User), table_of(TherapistProfile), table_of(License)
CERTIFICATIONS, TECHNIQUES, PRICES = table_of(Certification), table_of(TherapistTechnique), table_of(SessionPrice)
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
SQLITE_IMPORT_PRAGMAS = {"mmap_size": 0, "cache_size": -8000}  # KiB: 8 MB
EMPTY_EVERY = 100_000  # rows: how often PostgreSQL's chunk tables are emptied
FIRST, LAST = bindparam("first", type_=Integer), bindparam("last", type_=Integer)  # a chunk's lines
TEMP_BUFFERS = "256MB"  # PostgreSQL's memory for this import's staging (the session's, at most)


def _like(table: Table, name: str, as_name: str | None = None, **kw) -> Column:
    return Column(as_name or name, table.c[name].type, **kw)


_staging = MetaData()
TEMPORARY_TABLE: dict[str, typing.Any] = {"prefixes": ["TEMPORARY"], "postgresql_on_commit": "DROP"}
# A chunk's rows, as checked; every statement reads one chunk's lines (see EMPTY_EVERY).
ROWS = Table(
    "import_rows",
    _staging,
    Column("line", Integer, primary_key=True, autoincrement=False),
    _like(USERS, "email"),
    _like(USERS, "session_token"),
    *(_like(PROFILES, name) for name in PROFILE_FIELDS + SUMMARY_FIELDS),
    _like(PROFILES, "years_experience"),  # none: a new profile has none, an update keeps it
    _like(LICENSES, "number", "license_number"),
    _like(LICENSES, "state", "license_state"),
    _like(LICENSES, "expires_on", "license_expires"),
    _like(LICENSES, "credential"),
    **TEMPORARY_TABLE,
)
ROW_TECHNIQUES = Table(
    "import_techniques",
    _staging,
    Column("line", Integer, primary_key=True, autoincrement=False),
    _like(TECHNIQUES, "technique", primary_key=True),
    **TEMPORARY_TABLE,
)
ROW_CERTIFICATIONS = Table(
    "import_certifications",
    _staging,
    Column("line", Integer, primary_key=True, autoincrement=False),
    _like(CERTIFICATIONS, "slug", primary_key=True),
    **TEMPORARY_TABLE,
)
ROW_PRICES = Table(
    "import_prices",
    _staging,
    Column("line", Integer, primary_key=True, autoincrement=False),
    _like(PRICES, "minutes", primary_key=True),
    _like(PRICES, "amount"),
    **TEMPORARY_TABLE,
)
CHUNK = (ROWS, ROW_TECHNIQUES, ROW_CERTIFICATIONS, ROW_PRICES)
# Every line of the file so far: what it is, found by `resolve` (narrow: a few ids a line).
KEYS = Table(
    "import_keys",
    _staging,
    Column("line", Integer, primary_key=True, autoincrement=False),
    _like(USERS, "email", index=True),
    _like(LICENSES, "state", "license_state"),
    _like(LICENSES, "number", "license_number"),
    Column("license_line", Integer),  # the first line of the file with this license
    Column("license_id", Integer),
    Column("owner_id", Integer),  # the account whose profile holds the license
    Column("holder_id", Integer),  # the account holding the row's email
    _like(USERS, "role", "holder_role"),
    Column("claimed", Boolean),  # the owner set a password, and the row would change its email
    Column("user_id", Integer),
    Column("profile_id", Integer, index=True),
    Column("new_user", Boolean),
    Column("new_profile", Boolean),
    **TEMPORARY_TABLE,
)
FREED = Table(
    "import_freed",
    _staging,
    _like(USERS, "email", primary_key=True),
    Column("user_id", Integer),  # the account it was taken off
    **TEMPORARY_TABLE,
)
STAGING = (*CHUNK, KEYS, FREED)
LOADED = tuple(c.name for c in ROWS.c)


@dataclass(frozen=True)
class StagedRow:
    """One checked row as the chunk table holds it: `values`, one per column of LOADED
    (the summary as a new profile would have it), and its lists."""

    values: tuple
    techniques: tuple[str, ...]
    certifications: tuple[str, ...]
    prices: dict[int, Decimal]

    @property
    def line(self) -> int:
        return self.values[0]


@dataclass(frozen=True)
class Chunk:
    """Consecutive rows of the file, ready for the chunk tables (see BulkWriter.chunk)."""

    first: int  # line
    last: int
    count: int
    lists: dict[Table, list]


class BulkWriter:
    """The staging tables of one import, on the import's connection (its transaction)."""

    def __init__(self, conn: Connection, *, verified: bool, now: datetime, via: str):
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"
        self.verified, self.via = verified, via
        self.now = literal(now, UTCDateTime())
        self.staged = self.emptied = 0
        self.given = {f"after_{USERS.name}": 0, f"after_{PROFILES.name}": 0}  # SQLite: the last ids handed out
        self.writing = True
        if self.postgres:
            # Room for sorts and hashes, no JIT compiling (seconds spent on statements whose cost
            # is mostly writing), and plans by index: a chunk is a few thousand rows against
            # tables of millions, whose statistics lag the rows this transaction adds.
            for setting in ("work_mem = '64MB'", "jit = off", "enable_hashjoin = off", "enable_mergejoin = off"):
                conn.exec_driver_sql("SET LOCAL " + setting)
            # The staging (a narrow row a line, and its indexes) in memory rather than in temporary
            # files. PostgreSQL takes this only before a session's first temporary table; a
            # connection that had one keeps its size.
            try:
                with conn.begin_nested():
                    conn.exec_driver_sql(f"SET LOCAL temp_buffers = '{TEMP_BUFFERS}'")
            except DBAPIError:
                log.info("temp_buffers stays as it was: this connection has used temporary tables")
            self.sequences = {
                table.name: conn.exec_driver_sql(f"SELECT pg_get_serial_sequence('{table.name}', 'id')").scalar()
                for table in (USERS, PROFILES)
            }
        else:
            if not conn.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
                # pysqlite begins a transaction only at the first write: begin it now, holding the
                # write lock (the ids are given out as max(id) + n), and so that a rollback takes
                # the staging tables with it, as on PostgreSQL.
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            # Writes gain nothing from reading the file through memory maps, and every page
            # mapped counts in the process's memory: none for the import (`close` puts them back).
            # Nor from a large page cache (measured: the same speed with 2 MB as with 64 MB).
            self.driver = conn.connection.driver_connection
            self.pragmas = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in SQLITE_IMPORT_PRAGMAS}
            for name, value in SQLITE_IMPORT_PRAGMAS.items():
                conn.exec_driver_sql(f"PRAGMA {name} = {value}")
        for table in STAGING:
            table.drop(conn, checkfirst=True)
            table.create(conn)
        conn.exec_driver_sql(f"CREATE INDEX ix_{KEYS.name}_license ON {KEYS.name} (license_state, license_number)")
        # The statements, built once: each chunk runs the same ones.
        self.resolving = self._resolve()
        self.checking = self._problems()
        self.counting = self._kinds()
        self.writing_statements: list[tuple[str, typing.Any]] = []
        for write in (
            self._write_users,
            self._write_new_profiles,
            self._write_licenses,
            self._replace_lists,
            self._write_existing_profiles,
        ):
            write(lambda statement, kind: self.writing_statements.append((kind, statement)))

    def discard(self) -> None:
        """Drop the staging tables before a commit (PostgreSQL drops them itself at commit)."""
        if not self.postgres:
            for table in STAGING:
                table.drop(self.conn, checkfirst=True)

    def close(self) -> None:
        """After the commit or the rollback: the connection as it was."""
        if not self.postgres:
            for name, value in self.pragmas.items():
                self.driver.execute(f"PRAGMA {name} = {int(value or 0)}")  # type: ignore[union-attr]

    def chunk(self, rows: list[StagedRow]) -> Chunk:
        """The rows as the chunk tables take them: a tuple a row, for COPY or executemany."""
        lists = {
            ROWS: [row.values for row in rows],
            ROW_TECHNIQUES: [(row.line, t) for row in rows for t in row.techniques],
            ROW_CERTIFICATIONS: [(row.line, c) for row in rows for c in row.certifications],
            # (sqlite3 takes no Decimal: a float, as SQLAlchemy binds a Numeric there.)
            ROW_PRICES: [
                (row.line, m, a if self.postgres else float(a)) for row in rows for m, a in row.prices.items()
            ],
        }
        return Chunk(rows[0].line if rows else 0, rows[-1].line if rows else 0, len(rows), lists)

    def add(self, chunk: Chunk, *, write: bool) -> list[tuple[int, str]]:
        """Load, resolve and check one chunk; write it when `write` and no row of it has a
        problem. The chunk's problems as (line, message), in line order."""
        if not chunk.count:
            return []
        self._load(chunk)
        lines = {"first": chunk.first, "last": chunk.last}
        self.conn.execute(self.resolving, lines if self.postgres else lines | self.given)
        if not self.postgres:
            k = KEYS.c
            users, profiles = self.conn.execute(
                select(func.max(k.user_id), func.max(k.profile_id)).where(k.line.between(FIRST, LAST)), lines
            ).one()
            self.given = {
                f"after_{USERS.name}": max(self.given[f"after_{USERS.name}"], users or 0),
                f"after_{PROFILES.name}": max(self.given[f"after_{PROFILES.name}"], profiles or 0),
            }
        problems = [(row.line, _message(row)) for row in self.conn.execute(self.checking, lines)]
        self.staged += chunk.count
        self.writing = self.writing and write and not problems
        if self.writing:
            # Only the statements that have rows to write (a first import creates, a second updates).
            kinds = self.conn.execute(self.counting, lines).one()._asdict()
            for kind, statement in self.writing_statements:
                if kinds[kind]:
                    self.conn.execute(statement, lines)
        return problems

    def _kinds(self):
        """How many rows of the chunk bring a new account, profile, license, or an existing one."""
        k = KEYS.c
        count = lambda condition: func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
        return select(
            count(k.new_user).label("new_user"),
            count(~k.new_user).label("old_user"),
            count(k.new_profile).label("new_profile"),
            count(~k.new_profile).label("old_profile"),
            count(k.license_id.is_(None)).label("new_license"),
            count(k.license_id.is_not(None)).label("old_license"),
        ).where(k.line.between(FIRST, LAST))

    def profiles(self, first: int, last: int) -> dict[int, int]:
        """line -> profile id, for the lines `first` to `last` (already added)."""
        k = KEYS.c
        found = self.conn.execute(select(k.line, k.profile_id).where(k.line.between(first, last)))
        return {line: profile_id for line, profile_id in found}

    # Loading.

    def _load(self, chunk: Chunk) -> None:
        cursor = self.conn.connection.cursor()
        # Earlier chunks' rows go now and then (every statement reads its chunk's lines alone):
        # on PostgreSQL a TRUNCATE costs a chunk's worth of work, so not every chunk.
        empty = not self.postgres or self.staged - self.emptied >= EMPTY_EVERY
        if empty:
            self.emptied = self.staged
        for table, items in chunk.lists.items():
            if empty:
                self.conn.exec_driver_sql(f"{'TRUNCATE' if self.postgres else 'DELETE FROM'} {table.name}")
            if not items:
                continue
            columns = ", ".join(c.name for c in table.c)
            if self.postgres:
                with cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
                    for item in items:  # (psycopg formats a row in C: about a microsecond)
                        copy.write_row(item)
            else:
                marks = ", ".join("?" * len(table.c))
                insert = f"INSERT INTO {table.name} ({columns}) VALUES ({marks})"  # noqa: S608 our Table's names; values bound
                cursor.executemany(insert, items)

    # Finding what each row is, and what is wrong.

    def _new_ids(self, table: Table, needed, order_by):
        """An id for each row where `needed`: from the table's sequence, or after its max(id)."""
        if self.postgres:
            return func.nextval(literal(self.sequences[table.name]))
        # After the table's ids and the ones earlier chunks were given (written or, once a problem
        # stopped the writing, not): SQLite's two-argument max() is the larger of the two.
        base = func.max(
            select(func.coalesce(func.max(table.c.id), 0)).scalar_subquery(), bindparam(f"after_{table.name}")
        )
        return base + func.sum(case((needed, 1), else_=0)).over(order_by=order_by)

    def _resolve(self):
        """The statement that finds each row's license, owner, email holder, account and profile."""
        s = ROWS.c
        lic, lp, owner = LICENSES.alias("lic"), PROFILES.alias("lp"), USERS.alias("owner")
        holder, hp, freed = USERS.alias("holder"), PROFILES.alias("hp"), FREED.alias("freed")
        freed_user = USERS.alias("freed_user")
        # An email an earlier line took off its account still names that account here, as it
        # did before the import: the answer is the one the whole file would get at once.
        holder_id = func.coalesce(holder.c.id, freed.c.user_id)
        user_id = func.coalesce(lp.c.user_id, holder_id)
        profile_id = func.coalesce(lic.c.therapist_id, hp.c.id)
        new_user, new_profile = user_id.is_(None), profile_id.is_(None)
        query = (
            select(
                s.line,
                s.email,
                s.license_state,
                s.license_number,
                lic.c.id,
                lp.c.user_id,
                holder_id,
                func.coalesce(holder.c.role, freed_user.c.role),
                and_(owner.c.email != s.email, owner.c.password_hash.is_not(None)),
                case((new_user, self._new_ids(USERS, new_user, s.line)), else_=user_id),
                case((new_profile, self._new_ids(PROFILES, new_profile, s.line)), else_=profile_id),
                new_user,
                new_profile,
            )
            .select_from(
                ROWS.outerjoin(lic, and_(lic.c.state == s.license_state, lic.c.number == s.license_number))
                .outerjoin(lp, lp.c.id == lic.c.therapist_id)
                .outerjoin(owner, owner.c.id == lp.c.user_id)
                .outerjoin(holder, holder.c.email == s.email)
                .outerjoin(freed, freed.c.email == s.email)
                .outerjoin(freed_user, freed_user.c.id == freed.c.user_id)
                .outerjoin(hp, and_(lic.c.id.is_(None), hp.c.user_id == holder_id))
            )
            .where(s.line.between(FIRST, LAST))
            .order_by(s.line)
        )
        # The first line of the file with this license: an earlier chunk's, else this chunk's.
        other = KEYS.alias("other")
        earlier = select(func.min(other.c.line)).where(
            other.c.license_state == s.license_state, other.c.license_number == s.license_number
        )
        here = func.min(s.line).over(partition_by=(s.license_state, s.license_number))
        query = query.add_columns(func.coalesce(earlier.scalar_subquery(), here))
        names = ["line", "email", "license_state", "license_number", "license_id", "owner_id", "holder_id"]
        names += ["holder_role", "claimed", "user_id", "profile_id", "new_user", "new_profile"]
        return insert(KEYS).from_select([*names, "license_line"], query)

    def _problems(self):
        """The rows of the chunk (lines `first` to `last`) that cannot be written, in line order.
        An earlier line counts only when it was the first with its license (a repeat is
        reported as that, once)."""
        k, other = KEYS.c, KEYS.alias("other")

        def first_kept(column):
            return (
                select(func.min(other.c.line))
                .where(other.c[column] == k[column], other.c.line == other.c.license_line)
                .scalar_subquery()
            )

        email_line, profile_line = first_kept("email").label("email_line"), first_kept("profile_id")
        differs = and_(k.owner_id.is_not(None), k.holder_id.is_not(None), k.owner_id != k.holder_id)
        checked = (
            select(*k, email_line, profile_line.label("profile_line"), differs.label("other"))
            .where(k.line.between(FIRST, LAST))
            .subquery()
        )
        r = checked.c
        query = (
            select(checked)
            .where(
                or_(
                    r.line != r.license_line,
                    r.line != r.email_line,
                    r.line != r.profile_line,
                    r.claimed,
                    r.holder_role != Role.THERAPIST,
                    r.other,
                )
            )
            .order_by(r.line)
        )
        return query

    # Writing.

    def created(self) -> int:
        """How many rows of the file brought a license not yet on file (the others update)."""
        k = KEYS.c
        return self.conn.scalar(select(func.count()).select_from(KEYS).where(k.license_id.is_(None))) or 0

    def _chunk(self, *columns, where=None):
        """The chunk's rows beside what `resolve` found for them."""
        s, k = ROWS.c, KEYS.c
        query = select(*columns).select_from(ROWS.join(KEYS, k.line == s.line)).where(s.line.between(FIRST, LAST))
        return query if where is None else query.where(where)

    def _write_users(self, run) -> None:
        s, k, u = ROWS.c, KEYS.c, USERS.c
        # An email taken off an account stays that therapist's for the rest of the file.
        upsert = postgresql.insert if self.postgres else sqlite.insert
        run(
            upsert(FREED)
            .from_select(
                ["email", "user_id"],
                self._chunk(u.email, u.id).join(USERS, u.id == k.user_id).where(u.email != s.email),
            )
            .on_conflict_do_nothing(),
            "old_user",
        )
        changed = self._chunk(s.email, s.name, k.user_id, where=k.new_user.is_(False)).subquery()
        run(
            update(USERS)
            .values(email=changed.c.email, name=changed.c.name)
            .where(u.id == changed.c.user_id, or_(u.email != changed.c.email, u.name != changed.c.name)),
            "old_user",
        )
        run(
            insert(USERS).from_select(
                ["id", "email", "role", "name", "created_at", "session_token"],
                self._chunk(
                    k.user_id, s.email, literal(Role.THERAPIST, u.role.type), s.name, self.now, s.session_token
                ).where(k.new_user),
            ),
            "new_user",
        )

    def _write_new_profiles(self, run) -> None:
        s, k = ROWS.c, KEYS.c
        fields = (*PROFILE_FIELDS, *SUMMARY_FIELDS, "years_experience")
        # A new profile has no booking settings yet, so nothing hides its place (visibility.py).
        shown = (s.latitude, s.longitude)
        run(
            insert(PROFILES).from_select(
                [
                    "id",
                    "user_id",
                    *fields,
                    "shown_latitude",
                    "shown_longitude",
                    "rating_count",
                    "created_at",
                    "updated_at",
                ],
                self._chunk(
                    k.profile_id, k.user_id, *(s[f] for f in fields), *shown, literal(0), self.now, self.now
                ).where(k.new_profile),
            ),
            "new_profile",
        )

    def _verified_columns(self) -> tuple:
        """status, verified_at and verified_via of a credential this import creates."""
        if self.verified:
            return literal(VERIFIED), self.now, literal(self.via)
        return literal(PENDING), null(), null()

    def _write_licenses(self, run) -> None:
        s, k, lic = ROWS.c, KEYS.c, LICENSES.c
        run(
            insert(LICENSES).from_select(
                ["therapist_id", "number", "state", "expires_on", "credential", "status", "verified_at"]
                + ["verified_via", "submitted_at"],
                self._chunk(
                    k.profile_id,
                    s.license_number,
                    s.license_state,
                    s.license_expires,
                    s.credential,
                    *self._verified_columns(),
                    self.now,
                ).where(k.license_id.is_(None)),
            ),
            "new_license",
        )
        # A change to what was checked sends the license back to pending (`submit`);
        # --verified then verifies it, and any license not yet verified (`verify`).
        given = self._chunk(k.license_id, s.license_expires, s.credential, where=k.license_id.is_not(None)).subquery()
        g = given.c
        changed = or_(lic.expires_on != g.license_expires, lic.credential.is_distinct_from(g.credential))
        resubmit = and_(changed, lic.status != PENDING)
        decide = or_(changed, lic.status != VERIFIED) if self.verified else resubmit
        when = lambda value, otherwise: case((decide, value), else_=otherwise)
        run(
            update(LICENSES)
            .values(
                expires_on=g.license_expires,
                credential=g.credential,
                submitted_at=case((resubmit, self.now), else_=lic.submitted_at),
                status=when(literal(VERIFIED if self.verified else PENDING), lic.status),
                verified_at=when(self.now if self.verified else null(), lic.verified_at),
                verified_by_id=when(null(), lic.verified_by_id),
                verified_via=when(literal(self.via) if self.verified else null(), lic.verified_via),
                rejection_reason=when(null(), lic.rejection_reason),
            )
            .where(lic.id == g.license_id, or_(changed, decide)),
            "old_license",
        )

    def _replace_lists(self, run) -> None:
        """Techniques, prices and certifications become the row's; kept items stay as they are."""
        k = KEYS.c
        t, p, c = ROW_TECHNIQUES.c, ROW_PRICES.c, ROW_CERTIFICATIONS.c
        lists = (
            (TECHNIQUES, ROW_TECHNIQUES, "technique", {"technique": t.technique}, False),
            (PRICES, ROW_PRICES, "minutes", {"minutes": p.minutes, "amount": p.amount}, True),
            (CERTIFICATIONS, ROW_CERTIFICATIONS, "slug", self._new_certifications(c.slug), False),
        )
        upsert = postgresql.insert if self.postgres else sqlite.insert
        for target, staged, key, columns, update_kept in lists:
            listed = exists().where(
                staged.c.line == k.line, k.profile_id == target.c.therapist_id, staged.c[key] == target.c[key]
            )
            old = and_(k.line.between(FIRST, LAST), k.new_profile.is_(False))
            if self.postgres:  # DELETE ... USING: a join (an IN would be planned as a loop over the table)
                gone = delete(target).where(target.c.therapist_id == k.profile_id, old, ~listed)
            else:  # SQLite has no DELETE ... USING, and plans the IN by an index of its own
                gone = delete(target).where(target.c.therapist_id.in_(select(k.profile_id).where(old)), ~listed)
            run(gone, "old_profile")
            names = ["therapist_id", *columns]
            rows = (
                select(k.profile_id, *columns.values())
                .select_from(staged.join(KEYS, k.line == staged.c.line))
                .where(staged.c.line.between(FIRST, LAST))
            )
            # New profiles hold nothing yet: a plain insert, cheaper than one that looks for conflicts.
            run(insert(target).from_select(names, rows.where(k.new_profile.is_(True))), "new_profile")
            kept = upsert(target).from_select(names, rows.where(k.new_profile.is_(False)))
            if update_kept:
                kept = kept.on_conflict_do_update(
                    index_elements=["therapist_id", key],
                    set_={"amount": kept.excluded.amount},
                    where=target.c.amount != kept.excluded.amount,
                )
            run(kept.on_conflict_do_nothing() if not update_kept else kept, "old_profile")
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
                .where(
                    cert.therapist_id == k.profile_id,
                    k.line.between(FIRST, LAST),
                    k.new_profile.is_(False),
                    cert.status != VERIFIED,
                ),
                "old_profile",
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

    def _write_existing_profiles(self, run) -> None:
        """The row's fields and the summary, on profiles that were there before; only where something changed."""
        s, k, p = ROWS.c, KEYS.c, PROFILES.c
        fields = (*PROFILE_FIELDS, *SUMMARY_FIELDS[1:], "years_experience")
        # The summary's parts read from the credentials as written, once a row (not in SET and again in WHERE).
        stored = stored_summary(k.profile_id, null(), postgres=self.postgres)
        given = self._chunk(
            k.profile_id,
            *(s[f] for f in fields if f != "search_certifications"),
            stored["listed_until"].label("latest"),
            stored["search_certifications"].label("search_certifications"),
        ).where(k.new_profile.is_(False))
        g = given.subquery().c
        target: dict[str, typing.Any] = {f: g[f] for f in fields}
        target["years_experience"] = func.coalesce(g.years_experience, p.years_experience)
        target["listed_until"] = case((p.suspended_at.is_(None), g.latest))
        target["shown_latitude"], target["shown_longitude"] = shown_position_sql(p.id, g.latitude, g.longitude)
        run(
            update(PROFILES)
            .values(**target, updated_at=self.now)
            .where(p.id == g.profile_id, or_(*(p[f].is_distinct_from(value) for f, value in target.items()))),
            "old_profile",
        )


def _joined(item, *, where, postgres: bool, order_by=None):
    """The `item`s of the rows `where`, joined by commas in code-point order (Python's `sorted`), or ""."""
    order_by = item if order_by is None else order_by
    if postgres:
        key = order_by.collate("C") if isinstance(order_by.type, String) else order_by
        joined = func.string_agg(item, postgresql.aggregate_order_by(literal_column("','"), key))
        return func.coalesce(select(joined).where(where).scalar_subquery(), "")
    whole = func.group_concat(item, ",").over(order_by=order_by, rows=(None, None))
    return func.coalesce(select(whole).where(where).limit(1).scalar_subquery(), "")


def stored_summary(profile_id, suspended_at, *, postgres: bool) -> dict:
    """listing.summarise in SQL: the summary columns of the profile `profile_id`, from its rows."""
    lic, cert, tech, price = LICENSES.c, CERTIFICATIONS.c, TECHNIQUES.c, PRICES.c
    latest = select(func.max(lic.expires_on)).where(lic.therapist_id == profile_id, lic.status == VERIFIED)
    if postgres:
        expiry = literal("@") + func.to_char(cert.expires_on, "YYYY-MM-DD", type_=String)
        amount = cast(price.minutes, String) + literal(":") + func.to_char(price.amount, "FM999999990.00")
    else:
        expiry = literal("@") + cast(cert.expires_on, String)
        amount = func.printf("%d:%.2f", price.minutes, price.amount)
    return {
        "listed_until": case((suspended_at.is_(None), latest.scalar_subquery())),
        "search_techniques": _joined(tech.technique, where=tech.therapist_id == profile_id, postgres=postgres),
        "search_certifications": _joined(
            cert.slug + func.coalesce(expiry, ""),
            where=and_(cert.therapist_id == profile_id, cert.status == VERIFIED),
            postgres=postgres,
        ),
        "search_prices": _joined(
            amount,
            where=and_(price.therapist_id == profile_id, price.amount.is_not(None)),
            postgres=postgres,
            order_by=price.minutes,
        ),
    }


def refresh_summaries(conn: Connection, batch: int = 10_000, only: list[int] | None = None) -> int:
    """Recompute every profile's listing summary in SQL, `batch` profiles a statement
    (after SQL that bypassed the application), or the profiles `only`; how many there
    are. Only the rows whose summary was wrong are written."""
    p = PROFILES.c
    if only is not None:
        for start in range(0, len(only), batch):
            conn.execute(_refresh(conn, p.id.in_(sorted(only[start : start + batch]))))
        return len(only)
    ids = select(p.id).where(p.id > bindparam("after")).order_by(p.id).limit(batch).subquery()
    upto = select(func.max(ids.c.id), func.count())
    statement = _refresh(conn, and_(p.id > bindparam("after"), p.id <= bindparam("upto")))
    after = count = 0
    while True:
        last, found = conn.execute(upto, {"after": after}).one()
        if not found:
            return count
        conn.execute(statement, {"after": after, "upto": last})
        after, count = last, count + found


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


def _refresh(conn: Connection, which):
    """The UPDATE that writes the summary of the profiles `which`, where it is wrong."""
    p = PROFILES.c
    stored = stored_summary(p.id, p.suspended_at, postgres=conn.dialect.name == "postgresql")
    stored["shown_latitude"], stored["shown_longitude"] = shown_position_sql(p.id, p.latitude, p.longitude)
    fresh = select(p.id, *(value.label(name) for name, value in stored.items())).where(which).subquery()
    return (
        update(PROFILES)
        .values({name: fresh.c[name] for name in stored})
        .where(p.id == fresh.c.id, or_(*(p[name].is_distinct_from(fresh.c[name]) for name in stored)))
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
