"""The whole directory as lines: CSV in the import format, or one JSON record a
line (ndjson) in HSDS (a fully nested service per therapist) or FHIR (each
therapist's Practitioner, PractitionerRole and Location)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from ..therapists.export import CSV_COLUMNS, Practice, csv_row
from ..therapists.visibility import Audience
from . import fhir, hsds

FORMATS = ("csv", "hsds", "fhir")


def _json(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"


def lines(fmt: str, practices: Iterable[Practice], audience: Audience = Audience.PUBLIC) -> Iterator[str]:
    """The export in `fmt`, a line (or a few) per therapist as they come. HSDS and FHIR
    are the open feeds' records, always public; the CSV is written for `audience`
    (ADMIN: the private backup that imports back unchanged)."""
    if fmt != "csv" and audience is not Audience.PUBLIC:
        raise ValueError("only the CSV export has a private (backup) form")
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for practice in practices:
            writer.writerow(csv_row(practice.profile, audience))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()
    elif fmt == "hsds":
        for practice in practices:
            yield _json(hsds.service(practice))
    elif fmt == "fhir":
        # The builders the /fhir views use. Validating each of a national
        # directory's 1.2 million resources through the R4B models would take
        # most of an hour; the views validate what they serve, and the tests
        # validate exported lines.
        for practice in practices:
            yield "".join(_json(build(practice)) for build in fhir.BUILDERS.values())
    else:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
