"""Public pages: only listable therapists, filters, profile, health, errors, headers."""

from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from directory import create_app
from directory.extensions import db
from directory.models import CredentialStatus

from .conftest import TODAY

# Dates here are relative to the day: the clock is frozen (conftest.FROZEN_AT).
pytestmark = pytest.mark.usefixtures("frozen")


def test_home_says_what_the_service_is_and_has_a_search_box(client):
    page = client.get("/").get_data(as_text=True)
    assert "Find a qualified massage therapist near you" in page
    assert '<label for="home-location">' in page and 'id="home-location"' in page


def test_listing_shows_only_listable_therapists(client, factory):
    factory.therapist(name="Listed Lee")
    factory.therapist(name="Pending Pat", license_status=CredentialStatus.PENDING)
    factory.therapist(name="Rejected Ray", license_status=CredentialStatus.REJECTED)
    factory.therapist(name="Expired Eve", license_expires=TODAY - timedelta(days=1))
    factory.therapist(name="Suspended Sam", suspended=True)
    factory.therapist(name="Today Toni", license_expires=TODAY)  # valid through today
    page = client.get("/therapists").get_data(as_text=True)
    assert "Listed Lee" in page and "Today Toni" in page
    for hidden in ("Pending Pat", "Rejected Ray", "Expired Eve", "Suspended Sam"):
        assert hidden not in page
    assert "2 therapists" in page


def test_listing_filters_by_city_state_and_technique(client, factory):
    factory.therapist(name="Chi Swede", techniques=("swedish",))
    factory.therapist(name="Chi Deep", techniques=("deep_tissue",))
    factory.therapist(name="NY Swede", city="New York", state="NY", postal_code="10001", lat_lon=(40.7484, -73.9967))
    assert names(client, "city=chicago") == ["Chi Deep", "Chi Swede"]
    assert names(client, "state=NY") == ["NY Swede"]
    assert names(client, "technique=swedish") == ["Chi Swede", "NY Swede"]
    assert names(client, "city=Chicago&technique=deep_tissue") == ["Chi Deep"]
    assert "No verified therapists match" in client.get("/therapists?city=Boston").get_data(as_text=True)


def names(client, query):
    import re

    page = client.get(f"/therapists?{query}").get_data(as_text=True)
    return re.findall(r'class="card-title"><a href="/therapists/\d+">([^<]+)</a>', page)


@pytest.mark.parametrize(
    "query, message",
    [("state=ZZ", "two-letter US state code"), ("technique=reiki", "Technique must be one of: swedish")],
)
def test_bad_filters_answer_400_with_a_message(client, query, message):
    response = client.get(f"/therapists?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_listing_is_paginated(client, factory):
    for i in range(23):
        factory.therapist(name=f"T{i:02d}", commit=False)
    db.session.commit()
    first = client.get("/therapists").get_data(as_text=True)
    assert "23 therapists · page 1 of 2" in first and 'rel="next"' in first
    second = client.get("/therapists?page=2").get_data(as_text=True)
    assert second.count('class="card-title"') == 3


def test_profile_shows_what_a_client_checks(client, factory):
    t = factory.therapist(
        name="Maya Chen",
        techniques=("swedish", "prenatal"),
        certifications=("prenatal",),
        prices={30: 55, 60: 95, 90: 135.5},
        hsa_fsa=True,
        languages="en;zh",
        gender="female",
        accepting_new_clients=True,
        bio="Calm, careful prenatal work.",
        years_experience=9,
    )
    lic = t.licenses[0]
    page = client.get(f"/therapists/{t.id}").get_data(as_text=True)
    for text in (
        "Maya Chen",
        "Licensed in IL",
        lic.number,
        "Illinois license",
        f"{lic.expires_on:%B} {lic.expires_on.day}, {lic.expires_on.year}",
        "Last checked",
        "Certified prenatal massage therapist",
        "Swedish massage",
        "Prenatal massage",
        "$55",
        "$95",
        "$135.50",
        "30 minutes",
        "90 minutes",
        "HSA/FSA",
        "English, Chinese",
        "Accepting new clients",
        "Calm, careful prenatal work.",
        "Chicago, Illinois",
        "Female",
    ):
        assert text in page, text


def test_unverified_certifications_are_not_shown_as_credentials(client, factory):
    t = factory.therapist(certifications=("oncology",), cert_status=CredentialStatus.PENDING)
    assert "Oncology massage training" not in client.get(f"/therapists/{t.id}").get_data(as_text=True)


def test_no_license_state_says_so_plainly(client, factory):
    t = factory.therapist(state="KS", city="Wichita", postal_code="67202", lat_lon=(37.69, -97.34))
    page = client.get(f"/therapists/{t.id}").get_data(as_text=True)
    assert "Kansas does not regulate massage therapy" in page and "Credential verified" in page


@pytest.mark.parametrize(
    "kwargs",
    [
        {"license_status": CredentialStatus.PENDING},
        {"suspended": True},
        {"license_expires": TODAY - timedelta(days=1)},
        {"license_status": CredentialStatus.REJECTED},
    ],
)
def test_unlisted_profiles_answer_404(client, factory, kwargs):
    t = factory.therapist(**kwargs)
    response = client.get(f"/therapists/{t.id}")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
    assert client.get(f"/api/v1/therapists/{t.id}").status_code == 404


def test_api_profile_json(client, factory):
    t = factory.therapist(name="Jo", techniques=("sports",), certifications=("sports",), prices={60: 100})
    body = client.get(f"/api/v1/therapists/{t.id}").get_json()
    assert body["name"] == "Jo" and body["techniques"] == ["sports"] and body["certifications"] == ["sports"]
    assert body["license"]["state"] == "IL" and body["license"]["verified"] == TODAY.isoformat()
    assert body["prices"] == [{"session_minutes": 60, "amount": 100.0, "currency": "USD"}]


def test_healthz_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["database"] == "up"


def test_healthz_answers_503_when_the_database_does_not(client, app, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with app.app_context():
        monkeypatch.setattr(db.session, "execute", broken)
        response = client.get("/healthz")
    assert response.status_code == 503 and response.get_json()["database"] == "down"


def test_unknown_pages_are_friendly_html_and_json_under_api(client):
    html = client.get("/no/such/page")
    assert html.status_code == 404 and "text/html" in html.content_type
    assert "Page not found" in html.get_data(as_text=True)
    api = client.get("/api/v1/nothing")
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"


def test_security_headers(client):
    headers = client.get("/").headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_pages_carry_no_inline_script(client, factory):
    t = factory.therapist()
    for url in ("/", "/therapists", f"/therapists/{t.id}", "/about/safety"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>" not in page and " on" + "click=" not in page


@pytest.fixture
def probe_app(tmp_path):
    """A fresh app with routes that only tests have: a form POST and a crash."""
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/p.db",
        WTF_CSRF_ENABLED=True,
        INSTANCE_PATH=str(tmp_path),
    )
    app.add_url_rule("/probe", "probe", lambda: "accepted", methods=["POST"])
    app.add_url_rule("/boom", "boom", lambda: 1 / 0)
    app.add_url_rule("/api/boom", "api_boom", lambda: 1 / 0)
    return app


def test_csrf_is_required_on_every_post(probe_app):
    response = probe_app.test_client().post("/probe", data={"x": "1"})
    assert response.status_code == 400
    assert "The form expired or was not sent from this site" in response.get_data(as_text=True)


def test_unexpected_errors_are_friendly_and_hide_the_trace(probe_app, caplog):
    client = probe_app.test_client()
    html = client.get("/boom")
    assert html.status_code == 500
    body = html.get_data(as_text=True)
    assert "Something went wrong" in body and "ZeroDivisionError" not in body and "Traceback" not in body
    api = client.get("/api/boom")
    assert api.status_code == 500 and api.get_json()["error"]["code"] == "server_error"
