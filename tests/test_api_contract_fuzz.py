"""schemathesis fuzzes /api/v1 in-process (the WSGI app) against the OpenAPI
document the app serves: every operation, positive and negative cases, a fixed
seed. No 5xx, every answer as documented (status, content type, headers, body),
and bad input refused. The number of cases run is printed at the end of the
test session (conftest.py's terminal summary).

Not checked: that every schema-valid search is accepted. A search needs a
location unless a condition rules massage out, and the place must exist: rules
across parameters, or about the world, that JSON Schema cannot state (the 400
that answers them is documented, and checked)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from directory.extensions import db

# Cases per operation and mode (4 operations, 2 modes): about ten seconds per database.
EXAMPLES = 100
SEED = 20261127
RUN: dict[str, int] = {}  # cases run, by operation and mode


@pytest.fixture
def listed(factory):
    """A few listed therapists around 60601, so positive searches find someone."""
    for i in range(3):
        factory.therapist(name=f"Fuzz {i}", commit=False)
    db.session.commit()


def test_every_operation_answers_as_its_document_says(app, listed, monkeypatch, record_property):
    monkeypatch.setitem(app.config, "FAIR_API_RATE_LIMIT", "100000 per minute")  # the fuzzer is one client
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == {
        "GET /api/v1/search",
        "GET /api/v1/therapists/{therapist_id}",
        "GET /api/v1/vocabulary",
        "GET /api/v1/rules",
    }
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            statuses = fuzz(operation, mode)
            if not operation.query and mode is GenerationMode.NEGATIVE:
                continue  # nothing to get wrong: no parameter but a free-text header
            assert statuses, f"{operation.label} {mode.value}: no case generated"
            # (call_and_validate has checked each answer; this says it again in the test's own words.)
            assert not any(s >= 500 for s in statuses), f"{operation.label} {mode.value}: {sorted(set(statuses))}"
    # conftest.py prints this at the end of the run, so `make test` shows how much was fuzzed.
    record_property("schemathesis_cases", dict(RUN))


def fuzz(operation, mode) -> list[int]:
    statuses = []

    @seed(SEED)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
        statuses.append(response.status_code)

    try:
        check()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE and not operation.query, f"{operation.label}: no {mode.value} case"
    RUN[f"{operation.label} {mode.value}"] = len(statuses)
    return statuses
