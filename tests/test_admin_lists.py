"""The admin pages at scale: search, filters and pages; errors at the field; a confirmation
before suspending; buttons that say whose they are; a readable audit log; constant queries."""

import re
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import event, select

from directory import audit
from directory.admin.lists import describe_changes
from directory.extensions import db
from directory.models import (
    Booking,
    BookingStatus,
    CredentialStatus,
    License,
    RegistryLicense,
    RegistryProvider,
    RegistrySnapshot,
    Review,
    Role,
    TherapistProfile,
    User,
)

from . import nppes_sample as sample
from .conftest import login, post_form


@pytest.fixture
def admin(make_user):
    user = make_user(Role.ADMIN, "ada@example.com")
    user.name = "Ada Admin"
    db.session.commit()
    return user


@pytest.fixture
def admin_client(app, admin):
    c = app.test_client()
    login(c, admin.email)
    return c


def text_of(response) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def headings(page: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'<h2 id="q-[^"]+">([^<]+)</h2>', page)]


def pending(factory, n: int, *, state="IL", cert=False, days_ago=0, name=None, npi=None):
    t = factory.therapist(
        name=name or f"Pending {n:03d}",
        state=state,
        license_status=CredentialStatus.PENDING,
        certifications=("prenatal",) if cert else (),
        cert_status=CredentialStatus.PENDING,
        npi=npi,
        commit=False,
    )
    t.licenses[0].number = f"{state}-{n:05d}"
    submitted = datetime.now(UTC) - timedelta(days=days_ago, minutes=1000 - n)
    t.licenses[0].submitted_at = submitted
    for c in t.certifications:
        c.submitted_at = submitted
    return t


# --- the verification queue -----------------------------------------------------------


def test_the_queue_pages_oldest_first_and_finds_one_license_among_many(admin_client, factory):
    for n in range(60):
        pending(factory, n)
    db.session.commit()
    first = admin_client.get("/admin/verifications").get_data(as_text=True)
    assert len(headings(first)) == 25 and "Showing 1–25 of 60 credentials." in first
    assert headings(first)[0].endswith("IL-00000") and headings(first)[-1].endswith("IL-00024")
    assert (
        'href="/admin/verifications?page=2" rel="next"' in first
        or '<a rel="next" href="/admin/verifications?page=2">' in first
    )
    last = admin_client.get("/admin/verifications?page=3").get_data(as_text=True)
    assert len(headings(last)) == 10 and "Showing 51–60 of 60 credentials." in last and 'rel="next"' not in last
    beyond = admin_client.get("/admin/verifications?page=99")
    assert beyond.status_code == 200 and "Showing 51–60 of 60" in beyond.get_data(as_text=True)
    found = admin_client.get("/admin/verifications?q=il-00042").get_data(as_text=True)
    assert headings(found) == ["Pending 042: State massage license IL IL-00042"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("kind=certification", ["Cert Carla: Certified prenatal massage therapist"]),
        ("kind=license&state=NY", ["New Yorker: State massage license NY NY-00002"]),
        ("age=30", ["Old Olga: State massage license IL IL-00003"]),
        ("age=7&kind=license", ["Old Olga: State massage license IL IL-00003"]),
        (
            "age=new&kind=license",
            ["Cert Carla: State massage license IL IL-00001", "New Yorker: State massage license NY NY-00002"],
        ),
        ("status=rejected", ["Rita Rejected: State massage license IL IL-00004"]),
        ("q=carla&kind=certification", ["Cert Carla: Certified prenatal massage therapist"]),
    ],
)
def test_queue_filters(admin_client, factory, query, expected):
    pending(factory, 1, cert=True, name="Cert Carla")
    pending(factory, 2, state="NY", name="New Yorker")
    pending(factory, 3, days_ago=40, name="Old Olga")
    rita = pending(factory, 4, name="Rita Rejected")
    rita.licenses[0].reject("Unreadable")
    db.session.commit()
    page = admin_client.get(f"/admin/verifications?{query}").get_data(as_text=True)
    assert sorted(headings(page)) == sorted(expected)


def test_an_unknown_filter_value_is_named_at_its_field_not_guessed(admin_client, factory):
    pending(factory, 1)
    db.session.commit()
    response = admin_client.get("/admin/verifications?status=approved&kind=diploma")
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "Status must be one of: verified, rejected, expired." in page
    assert "Kind must be one of: license, certification." in page
    assert len(headings(page)) == 1  # the filters it could not use are left out


def test_rejecting_without_a_reason_keeps_the_admin_on_the_same_filtered_page(admin_client, factory):
    for n in range(30):
        pending(factory, n)
    db.session.commit()
    target = db.session.scalar(select(License).where(License.number == "IL-00027"))
    url = f"/admin/verifications/license/{target.id}?page=2&kind=license"
    response = post_form(admin_client, url, {"decision": "reject", "reason": "  "}, form_page="/admin/verifications")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<title>Error: Verification queue" in page and "Showing 26–30 of 30 credentials." in page
    field = f"reason-license-{target.id}"
    assert re.search(
        rf'<textarea id="{field}"[^>]*aria-invalid="true" aria-describedby="{field}-error" autofocus', page
    )
    assert page.count('aria-invalid="true"') == 1
    # The decision posts back to the same list, and a success lands there too.
    assert f'action="/admin/verifications/license/{target.id}?page=2&amp;kind=license"' in page
    ok = post_form(
        admin_client, url, {"decision": "reject", "reason": "Blurred scan."}, form_page="/admin/verifications"
    )
    assert ok.status_code == 302 and ok.headers["Location"] == "/admin/verifications?page=2&kind=license"


def test_queue_buttons_say_whose_credential_they_decide(admin_client, factory):
    pending(factory, 7, name="Maria Garcia", cert=True)
    db.session.commit()
    page = unescape(admin_client.get("/admin/verifications").get_data(as_text=True))
    assert 'aria-label="Approve Maria Garcia\'s license IL IL-00007"' in page
    assert 'aria-label="Reject Maria Garcia\'s license IL IL-00007"' in page
    assert 'aria-label="Approve Maria Garcia\'s prenatal certification"' in page
    assert '<span class="visually-hidden"> (Maria Garcia\'s prenatal certification)</span>' in page


# --- therapists, suspension ------------------------------------------------------------


def test_therapists_are_paged_and_each_suspend_link_names_its_therapist(admin_client, factory):
    for n in range(30):
        factory.therapist(name=f"Listed {n:02d}")
    factory.therapist(name="Maria Garcia")
    page = admin_client.get("/admin/therapists").get_data(as_text=True)
    assert "Showing 1–25 of 31 therapists." in page
    assert page.count('aria-label="Suspend ') == 25 and 'aria-label="Suspend Listed 00"' in page
    assert "<textarea" not in page and 'name="reason"' not in page  # the reason is asked on the confirmation step
    second = admin_client.get("/admin/therapists?page=2").get_data(as_text=True)
    assert 'aria-label="Suspend Maria Garcia"' in second


def test_suspending_asks_for_confirmation_and_the_reason_at_its_field(admin_client, factory, client):
    t = factory.therapist(name="Maria Garcia")
    link = f"/admin/therapists/{t.id}/suspension?status=listed"
    listing = admin_client.get("/admin/therapists?status=listed").get_data(as_text=True)
    assert f'href="{link.replace("&", "&amp;")}" aria-label="Suspend Maria Garcia"' in listing
    confirm = admin_client.get(link)
    text = text_of(confirm)
    assert confirm.status_code == 200 and "Suspend Maria Garcia?" in text
    assert "takes Maria Garcia out of the directory" in text
    assert re.search(
        r'<button type="submit" name="action" value="suspend">Suspend Maria Garcia</button>',
        confirm.get_data(as_text=True),
    )
    assert client.get(f"/therapists/{t.id}").status_code == 200  # nothing happened yet

    missing = post_form(admin_client, link, {"action": "suspend", "reason": ""}, form_page=link)
    page = missing.get_data(as_text=True)
    assert missing.status_code == 400 and "<title>Error: Suspend Maria Garcia" in page
    assert re.search(r'<ul class="field-errors" id="reason-error"><li>Give the reason\.</li>', page)
    db.session.expire_all()
    assert db.session.get(TherapistProfile, t.id).suspended_at is None

    done = post_form(admin_client, link, {"action": "suspend", "reason": "Complaint"}, form_page=link)
    assert done.status_code == 302 and done.headers["Location"] == "/admin/therapists?status=listed"
    assert client.get(f"/therapists/{t.id}").status_code == 404
    lift = admin_client.get(link)
    assert "Lift the suspension of Maria Garcia?" in text_of(lift)


def test_therapist_filters_kind_and_age(admin_client, factory):
    factory.therapist(name="Kansas Credential", state="KS", postal_code="66044", lat_lon=(38.97, -95.24))
    ks = db.session.scalar(select(TherapistProfile).where(TherapistProfile.name == "Kansas Credential"))
    ks.licenses[0].credential = "national_board"
    old = factory.therapist(name="Old Timer")
    old.created_at = datetime.now(UTC) - timedelta(days=800)
    factory.therapist(name="New Comer", npi="1234567893")
    db.session.commit()

    def names(query):
        page = admin_client.get(f"/admin/therapists?{query}").get_data(as_text=True)
        return re.findall(r'<td data-label="Therapist"><strong>([^<]+)</strong>', page)

    assert names("kind=credential") == ["Kansas Credential"]
    assert names("kind=license") == ["New Comer", "Old Timer"]
    assert names("age=old") == ["Old Timer"]
    assert names("age=7") == ["Kansas Credential", "New Comer"]
    assert names("q=1234567893") == ["New Comer"]


# --- the audit log ---------------------------------------------------------------------


def test_the_audit_log_reads_as_changes_with_labels_for_a_phone(admin_client, admin, factory):
    t = pending(factory, 5, name="Maria Garcia")
    db.session.commit()
    post_form(
        admin_client,
        f"/admin/verifications/license/{t.licenses[0].id}",
        {"decision": "approve"},
        form_page="/admin/verifications",
    )
    page = admin_client.get("/admin/audit?kind=decisions").get_data(as_text=True)
    text = text_of(admin_client.get("/admin/audit?kind=decisions"))
    assert "license approved" in text and "Maria Garcia: license IL IL-00005" in text
    assert re.search(r"Status:\s+was\s+pending\s+→\s+, now\s+verified", text)
    assert re.search(r"Verified by:\s+was\s+none\s+→\s+, now\s+Ada Admin <ada@example.com>", text)
    assert '{"' not in unescape(page) and "verified_by_id" not in page  # no raw JSON
    for label in ("When (UTC)", "Who", "What", "Subject", "Changes", "Note"):
        assert f'data-label="{label}"' in page  # each cell names its column when the table stacks on a phone
    assert "admin login" not in text  # filtered out by kind


def test_describe_changes_leaves_out_what_did_not_change():
    changes = describe_changes(
        '{"status": "pending", "rejection_reason": null, "verified_at": null}',
        '{"status": "rejected", "rejection_reason": "Blurred", "verified_at": null}',
    )
    assert [(c.label, c.before, c.after) for c in changes] == [
        ("Status", "pending", "rejected"),
        ("Reason for rejection", "none", "Blurred"),
    ]
    created = describe_changes(None, '{"role": "admin"}')
    assert [(c.label, c.before, c.after) for c in created] == [("Role", "", "admin")]


def test_audit_search_and_age(admin_client, admin):
    old = audit.record(
        "command line", "role_changed", "user", 1, subject_label="old@example.com", after={"role": "admin"}
    )
    old.at = datetime.now(UTC) - timedelta(days=90)
    audit.record("command line", "role_changed", "user", 2, subject_label="new@example.com", after={"role": "admin"})
    db.session.commit()
    assert "new@example.com" in text_of(admin_client.get("/admin/audit?q=NEW@"))
    assert "old@example.com" not in text_of(admin_client.get("/admin/audit?q=NEW@"))
    recent = text_of(admin_client.get("/admin/audit?age=30&kind=roles"))
    assert "new@example.com" in recent and "old@example.com" not in recent


# --- bookings and reviews --------------------------------------------------------------


def booking(t, client, *, days, status=BookingStatus.COMPLETED, minutes=60):
    start = datetime.now(UTC) + timedelta(days=days)
    b = Booking(
        therapist_id=t.id,
        client_id=client.id,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        minutes=minutes,
        price_amount=Decimal("90"),
        status=status,
    )
    db.session.add(b)
    return b


def test_bookings_filters_and_pages(admin_client, factory, make_user):
    il = factory.therapist(name="Ilse Illinois")
    ny = factory.therapist(name="Nate York", state="NY", postal_code="10001", lat_lon=(40.75, -73.99))
    carla = make_user(Role.CLIENT, "carla@example.com")
    for n in range(27):
        booking(il, carla, days=-n - 1)
    booking(ny, carla, days=3, status=BookingStatus.CONFIRMED, minutes=90)
    db.session.commit()
    assert "Showing 1–25 of 28 bookings." in text_of(admin_client.get("/admin/bookings"))
    upcoming = admin_client.get("/admin/bookings?age=upcoming").get_data(as_text=True)
    assert "Showing 1–1 of 1 bookings." in upcoming and "Nate York" in upcoming
    assert "Showing 1–1 of 1" in text_of(admin_client.get("/admin/bookings?state=NY&kind=90&status=confirmed"))
    assert "Showing 1–6 of 6" in text_of(admin_client.get("/admin/bookings?age=7&q=carla@"))  # days 1 to 6 ago
    assert "No bookings match." in text_of(admin_client.get("/admin/bookings?q=nobody"))


def test_reviews_filters_and_hiding_needs_a_reason_at_its_field(admin_client, factory, make_user):
    t = factory.therapist(name="Rhea Review")
    carla = make_user(Role.CLIENT, "carla@example.com")
    reviews = []
    for n, rating in enumerate((1, 3, 5)):
        b = booking(t, carla, days=-n - 1)
        db.session.flush()
        reviews.append(
            Review(
                booking_id=b.id,
                therapist_id=t.id,
                client_id=carla.id,
                author_name=f"Author {n}",
                rating=rating,
                text=f"Text {n}",
            )
        )
    db.session.add_all(reviews)
    db.session.commit()
    assert "Showing 1–1 of 1" in text_of(admin_client.get("/admin/reviews?kind=low"))
    page = admin_client.get("/admin/reviews").get_data(as_text=True)
    assert 'aria-label="Hide the review by Author 0 of Rhea Review"' in page
    response = post_form(
        admin_client, f"/admin/reviews/{reviews[0].id}/hide?kind=low", {"reason": ""}, form_page="/admin/reviews"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(rf'<input id="hide-{reviews[0].id}"[^>]*aria-invalid="true"', page)
    assert f'<ul class="field-errors" id="hide-{reviews[0].id}-error"><li>Give the reason.</li>' in page
    ok = post_form(
        admin_client, f"/admin/reviews/{reviews[0].id}/hide?kind=low", {"reason": "Abusive"}, form_page="/admin/reviews"
    )
    assert ok.headers["Location"] == "/admin/reviews?kind=low"
    assert "Showing 1–1 of 1" in text_of(admin_client.get("/admin/reviews?status=hidden"))


# --- constant queries -----------------------------------------------------------------


@contextmanager
def counting_queries():
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def fill(factory, make_user, size: int, start: int) -> None:
    """`size` of everything an admin page lists: pending licenses and certifications (with NPIs
    the registry knows), bookings, reviews and audit entries."""
    carla = db.session.scalar(select(User).where(User.email == "carla@example.com")) or make_user(
        Role.CLIENT, "carla@example.com"
    )
    if db.session.scalar(select(RegistrySnapshot)) is None:
        db.session.add(
            RegistrySnapshot(file_name="npidata_pfile_20050523-20261109.csv", file_date=date(2026, 11, 9), providers=0)
        )
    for n in range(start, start + size):
        npi = sample.npi(n)
        t = pending(factory, n, cert=True, npi=npi)
        provider = RegistryProvider(npi=npi, last_name="PENDING", first_name=f"{n:03d}", state="IL")
        provider.licenses = [
            RegistryLicense(slot=1, state="IL", number=f"IL-{n:05d}", number_key=f"IL{n}", taxonomy=sample.MASSAGE)
        ]
        db.session.add(provider)
        db.session.flush()
        b = booking(t, carla, days=-1)
        db.session.flush()
        db.session.add(
            Review(booking_id=b.id, therapist_id=t.id, client_id=carla.id, author_name="Carla", rating=4, text="Good")
        )
        audit.record(
            carla,
            "license_rejected",
            "license",
            t.licenses[0].id,
            subject_label=t.name,
            before={"status": "pending", "verified_by_id": None},
            after={"status": "rejected", "verified_by_id": carla.id},
        )
    db.session.commit()


@pytest.mark.parametrize(
    "url", ["/admin/verifications", "/admin/therapists", "/admin/audit", "/admin/bookings", "/admin/reviews"]
)
def test_a_page_costs_the_same_queries_however_much_is_listed(admin_client, factory, make_user, url):
    fill(factory, make_user, 3, start=1)
    with counting_queries() as small:
        assert admin_client.get(url).status_code == 200
    fill(factory, make_user, 57, start=100)
    with counting_queries() as large:
        page = admin_client.get(url).get_data(as_text=True)
    assert "Showing 1–25 of " in page  # a full page of 25 (out of 60 therapists, 120 credentials...)
    assert len(large) == len(small), "\n".join(large)


@pytest.mark.parametrize("list_url", ["/admin/therapists", "/admin/verifications", "/admin/reviews", "/admin/audit"])
@pytest.mark.parametrize("instruction", ["_method=POST", "_external=1", "_scheme=https&_external=1", "_anchor=x"])
def test_list_urls_carry_only_the_lists_own_filters(admin_client, factory, list_url, instruction):
    """url_for reads _method, _external, _scheme and _anchor as instructions: from the
    query string they made a 500 (_method) or absolute pager links (issue 23, item 8)."""
    for n in range(27):
        pending(factory, n)
    response = admin_client.get(f"{list_url}?q=&{instruction}&state=IL&page=1")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:300]
    links = re.findall(r'href="([^"]*(?:page=|\?)[^"]*)"', page)
    assert all(not link.startswith(("http:", "https:", "//")) for link in links), links
    assert all("_method" not in link and "_external" not in link and "#x" not in link for link in links), links
    if list_url in ("/admin/therapists", "/admin/verifications"):
        assert f'href="{list_url}?state=IL&page=2"' in unescape(page)


def test_a_decision_posted_with_instructions_in_the_query_lands_back_on_the_list(admin_client, factory):
    t = factory.therapist(name="Maria Garcia")
    link = f"/admin/therapists/{t.id}/suspension?status=listed&_method=POST&_external=1"
    done = post_form(admin_client, link, {"action": "suspend", "reason": "Complaint"}, form_page=link)
    assert done.status_code == 302 and done.headers["Location"] == "/admin/therapists?status=listed"
