"""A therapist keeps their own profile and credentials; nobody else can touch them."""

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from directory.extensions import db
from directory.models import Certification, CredentialStatus, Document, License, Role, TherapistProfile

from .conftest import TODAY, login, post_form
from .factories import pdf_bytes

# Dates here are relative to the day: the clock is frozen (conftest.FROZEN_AT).
pytestmark = pytest.mark.usefixtures("frozen")

FUTURE = (TODAY + timedelta(days=500)).isoformat()
PDF = pdf_bytes()


def png_bytes(size=(40, 40), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"
    Image.new("RGB", (30, 30), (1, 2, 3)).save(out, "JPEG", exif=exif)
    return out.getvalue()


PROFILE = {
    "name": "Tess Therapist",
    "bio": "Calm and careful. " * 6,
    "gender": "female",
    "languages": ["en", "es"],
    "years_experience": "7",
    "techniques": ["swedish", "prenatal"],
    "price_30": "",
    "price_45": "70",
    "price_60": "95.50",
    "price_90": "",
    "hsa_fsa": "y",
    "accepting_new_clients": "y",
    "mobile_radius_miles": "10",
    "address": "",
    "city": "",
    "state": "",
    "postal_code": "60601",
}


@pytest.fixture
def signed_in(client, therapist_user):
    assert login(client, therapist_user.email).status_code == 302
    return therapist_user


def profile_of(user) -> TherapistProfile:
    db.session.expire_all()
    return db.session.scalar(select(TherapistProfile).filter_by(user_id=user.id))


def save_profile(client, **changes):
    return post_form(client, "/account/profile", {**PROFILE, **changes})


def test_profile_editor_saves_every_field_and_geocodes(client, signed_in):
    response = save_profile(client)
    assert response.status_code == 302
    t = profile_of(signed_in)
    assert t.bio.startswith("Calm and careful.") and t.gender == "female" and t.language_codes == ["en", "es"]
    assert t.years_experience == 7 and t.technique_slugs == ["prenatal", "swedish"]
    assert {m: float(a) for m, a in t.price_by_minutes.items()} == {45: 70.0, 60: 95.5}
    assert t.hsa_fsa and t.accepting_new_clients and t.mobile_radius_miles == 10
    assert (t.latitude, t.longitude, t.city, t.state) == (41.8858, -87.6181, "Chicago", "IL")
    page = client.get("/account/profile").get_data(as_text=True)
    assert "We place you at <strong>Chicago, IL 60601</strong>" in page


def test_city_and_state_without_zip_is_enough(client, signed_in):
    assert save_profile(client, postal_code="", city="Evanston", state="IL").status_code == 302
    t = profile_of(signed_in)
    assert t.location_label == "Evanston, IL" and abs(t.latitude - 42.04) < 0.1


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"postal_code": "00000"}, "We could not find the ZIP code 00000."),
        ({"postal_code": "6060"}, "Enter a 5-digit ZIP code"),
        ({"postal_code": "", "city": "Atlantis", "state": "IL"}, "could not find the city"),
        ({"postal_code": ""}, "Enter your ZIP code, or your city and state"),
        ({"price_45": "", "price_60": ""}, "Give a price for at least one session length."),
        ({"price_60": "5"}, "Enter a price from $20 to $1000"),
        ({"price_60": "abc"}, "must be a number"),
        ({"techniques": []}, "Choose at least one technique."),
        ({"techniques": ["reiki"]}, "Unknown technique 'reiki'"),
        ({"languages": []}, "Choose at least one language."),
        ({"mobile_radius_miles": "500"}, "between 0 and 100 miles"),
        ({"years_experience": "-3"}, "from 0 to 70"),
        # One-line texts refuse control characters (issue 23, item 8): a newline in a name broke the calendar feed.
        ({"name": "Rita\nRelax"}, "Write the name on one line"),
        ({"name": "Rita\u2028Relax"}, "Write the name on one line"),
        ({"city": "Chi\tcago"}, "Write the city on one line"),
        ({"address": "1 Main St\r\nBCC: x"}, "Write the street address on one line"),
    ],
)
def test_bad_profile_input_reshows_the_form_and_keeps_what_was_stored(client, signed_in, changes, message):
    save_profile(client)
    before = profile_of(signed_in)
    snapshot = (before.latitude, before.search_prices, before.search_techniques, before.bio)
    response = save_profile(client, **changes, bio="A changed bio that must not be stored.")
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 400 and message in page, page[:3000]
    after = profile_of(signed_in)
    assert (after.latitude, after.search_prices, after.search_techniques, after.bio) == snapshot


def test_photo_is_checked_reencoded_and_served_through_a_route(client, signed_in, app, storage_backend):
    """Run with uploads in a folder and in S3 (storage_backend)."""
    response = post_form(
        client,
        "/account/photo",
        {"photo": (io.BytesIO(jpeg_with_exif()), "me.jpg")},
        form_page="/account/profile",
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    t = profile_of(signed_in)
    served = client.get(f"/therapists/{t.id}/photo")
    data = served.get_data()
    served.close()
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert data == storage_backend.read("photos", t.photo)
    assert b"SecretCameraMaker" not in data  # metadata dropped by re-encoding
    assert "/static/" not in t.photo and not (app.static_folder and t.photo in str(app.static_folder))


@pytest.mark.parametrize(
    "payload, name, message",
    [
        (b"<?php echo 'hi'; ?>", "photo.jpg", "not a readable JPEG or PNG image"),
        (PDF, "photo.png", "not a readable JPEG or PNG image"),
        (b"GIF89a" + b"\x00" * 100, "photo.gif", "not a readable JPEG or PNG image"),
        (png_bytes() + b"\x00" * (2 * 1024 * 1024), "big.png", "larger than 2 MB"),
    ],
)
def test_bad_photos_are_refused_by_content(client, signed_in, payload, name, message):
    response = post_form(
        client,
        "/account/photo",
        {"photo": (io.BytesIO(payload), name)},
        form_page="/account/profile",
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert profile_of(signed_in).photo is None


@pytest.mark.usefixtures("storage_backend")  # the same test with uploads in a folder and in S3
def test_photo_of_an_unlisted_profile_is_not_public(client, signed_in, app):
    post_form(
        client,
        "/account/photo",
        {"photo": (io.BytesIO(png_bytes()), "me.png")},
        form_page="/account/profile",
        content_type="multipart/form-data",
    )
    t = profile_of(signed_in)
    t.licenses[0].status = CredentialStatus.PENDING
    db.session.commit()
    mine = client.get(f"/therapists/{t.id}/photo")
    mine.close()
    assert mine.status_code == 200  # the owner still sees it
    other = app.test_client()
    assert other.get(f"/therapists/{t.id}/photo").status_code == 404


def submit_license(client, **changes):
    data = {
        "new-credential": "",
        "new-number": "IL-55-1234",
        "new-state": "IL",
        "new-expires_on": FUTURE,
        "new-document": (io.BytesIO(PDF), "license.pdf"),
    }
    data.update(changes)
    return post_form(
        client,
        "/account/credentials/licenses",
        data,
        form_page="/account/credentials",
        content_type="multipart/form-data",
    )


@pytest.mark.usefixtures("storage_backend")  # the same test with uploads in a folder and in S3
def test_license_with_a_document_is_pending(client, signed_in):
    response = submit_license(client)
    assert response.status_code == 302
    lic = db.session.scalar(select(License).filter_by(number="IL-55-1234"))
    assert lic.status == CredentialStatus.PENDING and lic.document.content_type == "application/pdf"
    page = client.get("/account/credentials").get_data(as_text=True)
    assert "Pending: waiting for an administrator" in page
    document = client.get(f"/account/documents/{lic.document.id}")
    data = document.get_data()
    document.close()
    # Kept as cleaned at upload (uploads.clean_pdf): the same pages, rebuilt.
    assert document.status_code == 200 and data.startswith(b"%PDF") and len(PdfReader(io.BytesIO(data)).pages) == 1
    assert "private" in document.headers["Cache-Control"]
    assert document.headers["Content-Disposition"].startswith("attachment")
    assert document.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"new-expires_on": (TODAY - timedelta(days=1)).isoformat()}, "must be in the future"),
        ({"new-expires_on": TODAY.isoformat()}, "must be in the future"),
        ({"new-state": "ZZ"}, "Not a valid choice"),
        ({"new-number": ""}, "Enter the number."),
        ({"new-number": "<script>"}, "Use letters, digits"),
        ({"new-document": (io.BytesIO(b""), "")}, "Attach a scan or photo of the license."),
        ({"new-document": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "license.pdf")}, "must be a PDF, JPEG or PNG"),
        ({"new-document": (io.BytesIO(PDF + b"0" * (5 * 1024 * 1024)), "huge.pdf")}, "larger than 5 MB"),
        ({"new-state": "KS"}, "Kansas does not regulate massage therapy"),
        ({"new-credential": "camtc", "new-state": "IL"}, "Illinois issues massage licenses"),
    ],
)
def test_bad_license_submissions_are_refused(client, signed_in, changes, message):
    before = db.session.scalar(select(func_count(License)))
    response = submit_license(client, **changes)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page, page[:2000]
    assert db.session.scalar(select(func_count(License))) == before


def func_count(model):
    from sqlalchemy import func

    return func.count(model.id)


def test_no_license_state_submits_the_credential_held(client, signed_in):
    response = submit_license(client, **{"new-credential": "camtc", "new-state": "CA", "new-number": "CAMTC-77123"})
    assert response.status_code == 302
    lic = db.session.scalar(select(License).filter_by(number="CAMTC-77123"))
    assert lic.credential == "camtc" and lic.state == "CA"


def test_changing_a_verified_license_returns_it_to_pending_and_removes_the_badge(client, signed_in):
    t = profile_of(signed_in)
    lic = t.licenses[0]
    assert lic.status == CredentialStatus.VERIFIED and t.is_listable
    public = client.application.test_client()
    assert public.get(f"/therapists/{t.id}").status_code == 200
    later = (TODAY + timedelta(days=900)).isoformat()
    prefix = f"lic{lic.id}"
    response = post_form(
        client,
        f"/account/credentials/licenses/{lic.id}",
        {
            f"{prefix}-credential": "",
            f"{prefix}-number": lic.number,
            f"{prefix}-state": lic.state,
            f"{prefix}-expires_on": later,
        },
        form_page="/account/credentials",
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    t = profile_of(signed_in)
    assert t.licenses[0].status == CredentialStatus.PENDING and t.licenses[0].verified_at is None
    assert not t.is_listable and t.listed_until is None
    assert public.get(f"/therapists/{t.id}").status_code == 404
    assert public.get("/api/v1/search?location=60601").get_json()["total"] == 0


def test_certification_is_submitted_for_checking(client, signed_in, storage_backend):
    """Run with uploads in a folder and in S3 (storage_backend)."""
    response = post_form(
        client,
        "/account/credentials/certifications",
        {
            "cert-slug": "prenatal",
            "cert-issuer": "Prenatal Institute",
            "cert-expires_on": "",
            "cert-document": (io.BytesIO(png_bytes()), "cert.png"),
        },
        form_page="/account/credentials",
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    cert = db.session.scalar(select(Certification).filter_by(slug="prenatal"))
    assert cert.status == CredentialStatus.PENDING and cert.document.content_type == "image/png"
    assert storage_backend.read("documents", cert.document.stored_name).startswith(b"\x89PNG")
    assert profile_of(signed_in).search_certifications == ""  # not counted until verified


def test_unconfirmed_email_cannot_submit_credentials(client, ctx):
    post_form(
        client,
        "/auth/register",
        {
            "name": "Una",
            "email": "una@example.com",
            "password": "quiet-meadow-lantern-7",
            "confirm": "quiet-meadow-lantern-7",
        },
    )
    login(client, "una@example.com", "quiet-meadow-lantern-7")
    response = submit_license(client)
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert db.session.scalar(select(func_count(License))) == 0


def test_dashboard_shows_status_completeness_next_step_and_counts(client, signed_in):
    t = profile_of(signed_in)
    page = client.get("/account").get_data(as_text=True)
    assert "Listed: clients can find you." in page
    assert re.search(r"Your profile is \d+% complete", page)
    assert "Next step:" in page and "Write a bio of a few sentences" in page
    visitor = client.application.test_client()
    for url in ("/api/v1/search?location=60601", "/search?location=60601", f"/therapists/{t.id}"):
        visitor.get(url).close()  # the server closes each response; counts are written then
    page = client.get("/account").get_data(as_text=True)
    assert re.search(r'<strong class="big">2</strong> times shown in search results', page)
    assert re.search(r'<strong class="big">1</strong> profile views', page)


def test_preview_shows_the_public_profile_even_before_listing(client, signed_in):
    t = profile_of(signed_in)
    t.licenses[0].status = CredentialStatus.PENDING
    db.session.commit()
    page = client.get("/account/preview").get_data(as_text=True)
    assert "This is how clients see your profile once your license is verified" in page and t.name in page


# --- authorization -----------------------------------------------------------------


@pytest.fixture
def two_therapists(client, therapist_user, factory):
    """Tess (signed in) and Otto, who has a license with a document."""
    login(client, therapist_user.email)
    other = factory.therapist(name="Otto Other")
    doc = Document(
        owner_id=other.user_id,
        stored_name="x.pdf",
        original_name="l.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
    )
    db.session.add(doc)
    other.licenses[0].document = doc
    db.session.commit()
    return other


def test_another_therapists_license_and_documents_are_out_of_reach(client, two_therapists):
    other = two_therapists
    lic = other.licenses[0]
    response = post_form(
        client,
        f"/account/credentials/licenses/{lic.id}",
        {f"lic{lic.id}-number": "HIJACK-1", f"lic{lic.id}-state": "IL", f"lic{lic.id}-expires_on": FUTURE},
        form_page="/account/credentials",
        content_type="multipart/form-data",
    )
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(License, lic.id).number == lic.number
    assert client.get(f"/account/documents/{lic.document_id}").status_code == 404


def test_documents_are_never_public(app, two_therapists):
    anonymous = app.test_client()
    response = anonymous.get(f"/account/documents/{two_therapists.licenses[0].document_id}")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "url", ["/account/profile", "/account/credentials", "/account/preview", "/account/availability"]
)
def test_clients_and_admins_get_403_and_anonymous_the_login_page(app, make_user, url):
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/auth/login")
    client_user = make_user(Role.CLIENT, "c@example.com")
    c = app.test_client()
    login(c, client_user.email)
    assert c.get(url).status_code == 403


def test_profile_post_only_changes_the_signed_in_therapists_profile(client, two_therapists):
    save_profile(client, name="Tess Renamed")
    db.session.expire_all()
    assert db.session.get(TherapistProfile, two_therapists.id).name == "Otto Other"


def test_a_clients_account_page_is_their_bookings(app, make_user):
    c = app.test_client()
    login(c, make_user(Role.CLIENT, "c@example.com").email)
    response = c.get("/account")
    assert response.status_code == 302 and response.headers["Location"] == "/account/bookings"
