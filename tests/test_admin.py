"""Admins verify credentials, suspend therapists and read the audit log; nobody else can."""

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update

from directory.audit import AuditLogIsAppendOnly
from directory.extensions import db
from directory.models import AuditEntry, Certification, CredentialStatus, License, Role, TherapistProfile, User

from .conftest import PASSWORD, TODAY, csrf_token, login, post_form

# Dates here are relative to the day: the clock is frozen (conftest.FROZEN_AT).
pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, "admin@example.com")


@pytest.fixture
def admin_client(app, admin):
    c = app.test_client()
    assert login(c, admin.email).status_code == 302
    return c


@pytest.fixture
def pending(factory):
    """A therapist whose license and prenatal certification wait for checking."""
    t = factory.therapist(
        name="Paula Pending",
        license_status=CredentialStatus.PENDING,
        certifications=("prenatal",),
        cert_status=CredentialStatus.PENDING,
    )
    return t


def decide(c, kind, credential_id, decision, reason=""):
    return post_form(
        c,
        f"/admin/verifications/{kind}/{credential_id}",
        {"decision": decision, "reason": reason},
        form_page="/admin/verifications",
    )


def entries(action=None):
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return db.session.scalars(stmt).all()


def test_create_admin_from_a_password_file(runner, ctx, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("winter-orchard-copper-81\n")
    result = runner.invoke(args=["users", "create-admin", "Boss@Example.com", "--password-file", str(secret)])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).filter_by(email="boss@example.com"))
    assert user.role == Role.ADMIN and user.password_hash.startswith("scrypt:")
    [entry] = entries("role_changed")
    assert json.loads(entry.after) == {"role": "admin"} and entry.actor_label == "command line"


def test_create_admin_prompts_for_the_password(runner, ctx):
    result = runner.invoke(
        args=["users", "create-admin", "p@example.com"], input="winter-orchard-copper-81\nwinter-orchard-copper-81\n"
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User).filter_by(email="p@example.com")).role == Role.ADMIN


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (["users", "create-admin", "not-an-email"], "", "is not a valid email address"),
        (["users", "create-admin", "w@example.com"], "password1\npassword1\n", "Use at least 10 characters"),
        (["users", "create-admin", "w@example.com"], "password1234\npassword1234\n", "too common"),
    ],
)
def test_create_admin_refuses_bad_input(runner, ctx, args, stdin, message):
    result = runner.invoke(args=args, input=stdin)
    assert result.exit_code != 0 and message in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_existing_account_needs_promote(runner, therapist_user, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("winter-orchard-copper-81")
    result = runner.invoke(args=["users", "create-admin", therapist_user.email, "--password-file", str(secret)])
    assert result.exit_code == 1 and "pass --promote" in result.output
    result = runner.invoke(
        args=["users", "create-admin", therapist_user.email, "--password-file", str(secret), "--promote"]
    )
    assert result.exit_code == 0
    [entry] = entries("role_changed")
    assert json.loads(entry.before) == {"role": "therapist"} and json.loads(entry.after) == {"role": "admin"}


def test_queue_lists_pending_oldest_first_with_the_document(admin_client, factory):
    from directory.models import Document

    newer = factory.therapist(name="Newer Nell", license_status=CredentialStatus.PENDING)
    older = factory.therapist(name="Older Olga", license_status=CredentialStatus.PENDING)
    older.licenses[0].submitted_at = newer.licenses[0].submitted_at - timedelta(days=3)
    doc = Document(
        owner_id=older.user_id,
        stored_name="x.png",
        original_name="l.png",
        content_type="image/png",
        size=1,
        sha256="0" * 64,
    )
    older.licenses[0].document = doc
    db.session.commit()
    page = admin_client.get("/admin/verifications").get_data(as_text=True)
    assert page.index("Older Olga") < page.index("Newer Nell")
    assert f'<img class="document-preview" src="/account/documents/{doc.id}"' in page
    assert older.licenses[0].number in page


def test_approval_records_who_and_when_lists_the_therapist_and_emails(admin_client, admin, pending, outbox, client):
    lic = pending.licenses[0]
    assert decide(admin_client, "license", lic.id, "approve").status_code == 302
    db.session.expire_all()
    lic = db.session.get(License, lic.id)
    assert lic.status == CredentialStatus.VERIFIED and lic.verified_by_id == admin.id
    assert lic.verified_at.date() == TODAY
    profile = client.get(f"/therapists/{pending.id}").get_data(as_text=True)
    assert "Last checked" in profile and f"by {admin.name} (administrator)" in profile
    assert client.get("/api/v1/search?location=60601").get_json()["total"] == 1
    [message] = outbox()
    assert message["To"] == pending.user.email and "verified" in message["Subject"]
    [entry] = entries("license_approved")
    assert entry.actor_id == admin.id and json.loads(entry.before)["status"] == "pending"
    assert json.loads(entry.after)["status"] == "verified"


def test_rejection_needs_a_reason_which_the_therapist_sees(admin_client, pending, outbox, app):
    cert = pending.certifications[0]
    response = decide(admin_client, "certification", cert.id, "reject", "")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    field_id = f"reason-certification-{cert.id}"
    # The message sits at the reason field of that credential, which says so to a screen reader and takes focus.
    invalid = rf'aria-invalid="true" aria-describedby="{field_id}-error" autofocus'
    assert re.search(rf'<textarea id="{field_id}" name="reason"[^>]*{invalid}', page)
    assert re.search(rf'<ul class="field-errors" id="{field_id}-error"><li>Give the reason for the rejection', page)
    assert 'class="flash' not in page
    db.session.expire_all()
    assert db.session.get(Certification, cert.id).status == CredentialStatus.PENDING
    decide(admin_client, "certification", cert.id, "reject", "The certificate is not legible.")
    db.session.expire_all()
    assert db.session.get(Certification, cert.id).rejection_reason == "The certificate is not legible."
    [message] = outbox()
    assert "The certificate is not legible." in message.get_content()
    therapist = app.test_client()
    pending.user.password_hash = __import__("directory.auth.passwords", fromlist=["x"]).hash_password(PASSWORD)
    db.session.commit()
    login(therapist, pending.user.email)
    dashboard = therapist.get("/account").get_data(as_text=True)
    assert "Rejected" in dashboard and "Reason: The certificate is not legible." in dashboard
    [entry] = entries("certification_rejected")
    assert entry.note == "The certificate is not legible."


def test_a_decision_is_made_once(admin_client, pending):
    lic = pending.licenses[0]
    decide(admin_client, "license", lic.id, "approve")
    response = decide(admin_client, "license", lic.id, "reject", "changed my mind")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(License, lic.id).status == CredentialStatus.VERIFIED
    assert len(entries("license_rejected")) == 0


def test_an_admin_cannot_approve_their_own_credentials(admin_client, admin, factory):
    own = factory.therapist(name="Admin Self", license_status=CredentialStatus.PENDING, commit=False)
    db.session.flush()
    own.user_id = admin.id
    own.user = admin
    db.session.commit()
    page = admin_client.get("/admin/verifications").get_data(as_text=True)
    assert "This is your own credential" in page
    response = decide(admin_client, "license", own.licenses[0].id, "approve")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(License, own.licenses[0].id).status == CredentialStatus.PENDING


def test_suspension_removes_the_therapist_everywhere_at_once_and_is_audited(admin_client, admin, factory, client):
    t = factory.therapist(name="Sus Pect")
    assert client.get(f"/therapists/{t.id}").status_code == 200
    response = post_form(
        admin_client,
        f"/admin/therapists/{t.id}/suspension",
        {"action": "suspend", "reason": "Complaint under review"},
        form_page="/admin/therapists",
    )
    assert response.status_code == 302
    assert client.get(f"/therapists/{t.id}").status_code == 404
    assert client.get(f"/api/v1/therapists/{t.id}").status_code == 404
    assert client.get("/api/v1/search?location=60601").get_json()["total"] == 0
    assert "Sus Pect" not in client.get("/therapists").get_data(as_text=True)
    post_form(
        admin_client,
        f"/admin/therapists/{t.id}/suspension",
        {"action": "unsuspend", "reason": "Cleared"},
        form_page="/admin/therapists",
    )
    assert client.get(f"/therapists/{t.id}").status_code == 200
    suspended, lifted = entries("suspended")[0], entries("unsuspended")[0]
    assert suspended.note == "Complaint under review" and json.loads(suspended.before)["suspended_at"] is None
    assert json.loads(lifted.after)["suspended_at"] is None


def test_suspension_needs_a_reason(admin_client, factory):
    t = factory.therapist()
    post_form(
        admin_client,
        f"/admin/therapists/{t.id}/suspension",
        {"action": "suspend", "reason": " "},
        form_page="/admin/therapists",
    )
    db.session.expire_all()
    assert db.session.get(TherapistProfile, t.id).suspended_at is None


@pytest.mark.parametrize(
    "query, expected",
    [
        ("q=olga", ["Olga Ortiz"]),
        ("q=OLGA%40", ["Olga Ortiz"]),
        ("q=LMT-", ["Olga Ortiz", "Pete Pending", "Sam Suspended"]),
        ("state=NY", ["Nina York"]),
        ("status=suspended", ["Sam Suspended"]),
        ("status=pending", ["Pete Pending"]),
        ("status=listed", ["Nina York", "Olga Ortiz"]),
        ("status=expired", ["Eddie Expired"]),
    ],
)
def test_therapist_search(admin_client, factory, query, expected):
    olga = factory.therapist(name="Olga Ortiz")
    olga.user.email = "olga@clinic.example"
    factory.therapist(name="Pete Pending", license_status=CredentialStatus.PENDING)
    factory.therapist(name="Sam Suspended", suspended=True)
    nina = factory.therapist(
        name="Nina York", state="NY", city="New York", postal_code="10001", lat_lon=(40.75, -73.99)
    )
    nina.licenses[0].number = "NY-0001"
    eddie = factory.therapist(name="Eddie Expired", license_expires=TODAY - timedelta(days=2))
    eddie.licenses[0].number = "EXP-1"
    db.session.commit()
    page = admin_client.get(f"/admin/therapists?{query}").get_data(as_text=True)
    found = re.findall(r'<td data-label="Therapist"><strong>([^<]+)</strong>', page)
    assert found == expected


def test_admin_logins_are_audited(admin_client, admin):
    [entry] = entries("admin_login")
    assert entry.actor_id == admin.id
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "admin login" in page and admin.email in page


def test_the_audit_log_cannot_be_edited_or_deleted(admin_client, ctx):
    entry = entries("admin_login")[0]
    entry.note = "tampered"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.execute(update(AuditEntry).values(note="x"))
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.execute(delete(AuditEntry))
    db.session.rollback()
    assert db.session.get(AuditEntry, entry.id).note is None


ADMIN_GETS = ["/admin/verifications", "/admin/therapists", "/admin/audit"]


@pytest.mark.parametrize("url", ADMIN_GETS)
def test_only_admins_reach_admin_pages(app, make_user, url):
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/auth/login")
    for role, email in ((Role.THERAPIST, "t@example.com"), (Role.CLIENT, "c@example.com")):
        user = make_user(role, email)
        c = app.test_client()
        login(c, user.email)
        assert c.get(url).status_code == 403, role


def test_non_admins_cannot_decide_or_suspend(app, therapist_user, pending):
    c = app.test_client()
    login(c, therapist_user.email)
    token = csrf_token(c, "/account")
    lic = pending.licenses[0]
    assert (
        c.post(f"/admin/verifications/license/{lic.id}", data={"decision": "approve", "csrf_token": token}).status_code
        == 403
    )
    assert (
        c.post(
            f"/admin/therapists/{pending.id}/suspension", data={"action": "suspend", "reason": "x", "csrf_token": token}
        ).status_code
        == 403
    )
    db.session.expire_all()
    assert db.session.get(License, lic.id).status == CredentialStatus.PENDING


def test_admin_actions_need_csrf(admin_client, pending):
    lic = pending.licenses[0]
    response = admin_client.post(f"/admin/verifications/license/{lic.id}", data={"decision": "approve"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(License, lic.id).status == CredentialStatus.PENDING


def test_admins_download_documents_never_inline(admin_client, factory):
    """Issue 23, item 3: documents were served inline to the admin; now always a sandboxed download."""
    from directory.models import Document

    t = factory.therapist(license_status=CredentialStatus.PENDING)
    admin_client.application.extensions["storage"].put("documents", "adm.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
    doc = Document(
        owner_id=t.user_id,
        stored_name="adm.pdf",
        original_name="l.pdf",
        content_type="application/pdf",
        size=15,
        sha256="0" * 64,
    )
    t.licenses[0].document = doc
    db.session.commit()
    response = admin_client.get(f"/account/documents/{doc.id}")
    data = response.get_data()
    response.close()
    assert response.status_code == 200 and data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"] == "attachment; filename=l.pdf"
    assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    page = admin_client.get("/admin/verifications").get_data(as_text=True)
    assert "<iframe" not in page and f'href="/account/documents/{doc.id}" download' in page


# --- expiry --------------------------------------------------------------------------


def test_expire_command_marks_lapsed_and_reminds_once(runner, factory, outbox):
    today = TODAY
    lapsed = factory.therapist(name="Lapsed", license_expires=today - timedelta(days=1))
    in_25 = factory.therapist(name="In25", license_expires=today + timedelta(days=25))
    in_5 = factory.therapist(name="In5", license_expires=today + timedelta(days=5))
    factory.therapist(name="Far", license_expires=today + timedelta(days=200))
    result = runner.invoke(args=["licenses", "expire"])
    assert result.exit_code == 0, result.output
    assert "1 licenses marked expired; reminders sent: 1 at 30 days, 1 at 7 days;" in result.output
    db.session.expire_all()
    assert db.session.get(TherapistProfile, lapsed.id).licenses[0].status == CredentialStatus.EXPIRED
    subjects = sorted(m["Subject"] for m in outbox())
    assert subjects == ["Your license expires in 25 days", "Your license expires in 5 days"]
    again = runner.invoke(args=["licenses", "expire"])
    assert "0 licenses marked expired; reminders sent: 0 at 30 days, 0 at 7 days;" in again.output
    assert len(outbox()) == 2
    assert entries("license_expired")[0].subject_label.startswith("Lapsed")
    assert in_25.id and in_5.id
