"""/account/...: a therapist's dashboard, profile, photo, credentials and documents."""

from types import SimpleNamespace

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import stats, uploads
from ..auth.decorators import therapist_required
from ..errors import show_on_form
from ..models import CredentialStatus
from ..reviews.services import visible_reviews
from ..service_errors import ServiceError
from ..therapists import profiles
from . import bp, services
from .forms import CertificationForm, ConfirmForm, LicenseForm, PhotoForm, ProfileForm


def _profile():
    return current_user.therapist


@bp.get("")
@login_required
def dashboard():
    if current_user.is_admin and "admin.verifications" in current_app.view_functions:
        return redirect(url_for("admin.verifications"))
    if current_user.role.value == "client":
        return redirect(url_for("bookings.mine"))
    if not current_user.is_therapist:
        abort(403)
    profile = profiles.ensure_profile(current_user)
    percent, steps = services.completeness(profile)
    next_step = next((s for s in steps if not s.done), None)
    return render_template(
        "practice/dashboard.html",
        t=profile,
        percent=percent,
        steps=steps,
        next_step=next_step,
        counts=stats.last_30_days(profile.id),
        resend=ConfirmForm(),
        waiting=services.pending_requests(profile),
    )


@bp.route("/profile", methods=["GET", "POST"])
@therapist_required
def profile():
    t = _profile()
    form = ProfileForm(obj=None if request.method == "POST" else _form_data(t))
    photo_form = PhotoForm()
    status = 200
    if form.validate_on_submit():
        # A photo chosen in the same form is saved with it, never silently dropped; when it
        # is refused, nothing is saved and the page says why at the photo.
        upload = profiles.Upload.of(photo_form.photo.data)
        try:
            if upload is not None:
                profiles.set_photo(t, upload)
        except ServiceError as exc:
            status = show_on_form(photo_form, exc, default_field="photo")
        else:
            try:
                profiles.update_profile(t, form.data_for_service(), current_app.extensions["geocoder"])
            except ServiceError as exc:
                status = show_on_form(form, exc)
                if upload is not None:
                    flash("Your new photo is saved; the rest of the profile is not yet: correct the marked fields.")
            else:
                saved = "Profile and photo saved" if upload is not None else "Profile saved"
                flash(f"{saved}. We placed you at {t.location_label}.", "success")
                return redirect(url_for("practice.profile"))
    elif request.method == "POST":
        status = 400
        if profiles.Upload.of(photo_form.photo.data) is not None:
            photo_form.photo.errors = [
                "Your photo was not saved because of the mistakes below: choose it again, then save."
            ]
    return render_template(
        "practice/profile.html", form=form, t=t, photo_form=photo_form, remove_form=ConfirmForm()
    ), status


def _form_data(t):
    """The profile as the form's initial data."""
    fields = (
        "name",
        "bio",
        "gender",
        "years_experience",
        "hsa_fsa",
        "accepting_new_clients",
        "mobile_radius_miles",
        "address",
        "city",
        "state",
        "postal_code",
        "npi",
    )
    data = SimpleNamespace(**{name: getattr(t, name) for name in fields})
    data.languages = t.language_codes or ["en"]
    data.techniques = t.technique_slugs
    for minutes, amount in t.price_by_minutes.items():
        setattr(data, f"price_{minutes}", amount)
    return data


@bp.post("/photo")
@therapist_required
def photo():
    t = _profile()
    photo_form = PhotoForm()
    if photo_form.validate_on_submit():
        try:
            profiles.set_photo(t, profiles.Upload.of(photo_form.photo.data))
        except ServiceError as exc:
            show_on_form(photo_form, exc, default_field="photo")
        else:
            flash("Photo saved.", "success")
            return redirect(url_for("practice.profile"))
    form = ProfileForm(obj=_form_data(t))  # anything typed in the profile fields is shown again, not lost
    return render_template(
        "practice/profile.html", form=form, t=t, photo_form=photo_form, remove_form=ConfirmForm()
    ), 400


@bp.post("/photo/remove")
@therapist_required
def remove_photo():
    if ConfirmForm().validate_on_submit():
        profiles.remove_photo(_profile())
        flash("Photo removed.", "success")
    return redirect(url_for("practice.profile"))


@bp.get("/credentials")
@therapist_required
def credentials():
    return _credentials_page(LicenseForm(prefix="new"), CertificationForm(prefix="cert"), {})


def _credentials_page(license_form, cert_form, edit_forms, status=200):
    t = _profile()
    for lic in t.licenses:
        if lic.id not in edit_forms:
            form = LicenseForm(
                prefix=f"lic{lic.id}",
                data={
                    "credential": lic.credential or "",
                    "number": lic.number,
                    "state": lic.state,
                    "expires_on": lic.expires_on,
                },
            )
            edit_forms[lic.id] = form
    return render_template(
        "practice/credentials.html",
        t=t,
        license_form=license_form,
        cert_form=cert_form,
        edit_forms=edit_forms,
        Status=CredentialStatus,
    ), status


@bp.post("/credentials/licenses")
@therapist_required
def add_license():
    return _save_license(LicenseForm(prefix="new"), None)


@bp.post("/credentials/licenses/<int:license_id>")
@therapist_required
def change_license(license_id: int):
    license = services.owned_license(_profile(), license_id)
    if license is None:
        abort(404)
    return _save_license(LicenseForm(prefix=f"lic{license_id}"), license)


def _save_license(form, license):
    if current_user.email_confirmed_at is None:
        flash("Confirm your email address before you submit credentials.", "error")
        return redirect(url_for("practice.dashboard"))
    if form.validate_on_submit():
        try:
            change = profiles.save_license(
                _profile(), form.data_for_service(), license, upload=profiles.Upload.of(form.document.data)
            )
        except ServiceError as exc:
            show_on_form(form, exc)
        else:
            message = "License submitted. An administrator will check it; you will get an email."
            if change.returned_to_pending:
                message = "License changed. Your verified badge is removed until an administrator checks it again."
            flash(message, "success")
            return redirect(url_for("practice.credentials"))
    edit_forms = {license.id: form} if license else {}
    new_form = form if license is None else LicenseForm(prefix="new", formdata=None)
    return _credentials_page(new_form, CertificationForm(prefix="cert", formdata=None), edit_forms, 400)


@bp.post("/credentials/certifications")
@therapist_required
def add_certification():
    form = CertificationForm(prefix="cert")
    if current_user.email_confirmed_at is None:
        flash("Confirm your email address before you submit credentials.", "error")
        return redirect(url_for("practice.dashboard"))
    if form.validate_on_submit():
        try:
            profiles.save_certification(
                _profile(), form.data_for_service(), upload=profiles.Upload.of(form.document.data)
            )
        except ServiceError as exc:
            show_on_form(form, exc)
        else:
            flash("Certification submitted for checking.", "success")
            return redirect(url_for("practice.credentials"))
    return _credentials_page(LicenseForm(prefix="new", formdata=None), form, {}, 400)


@bp.get("/documents/<int:document_id>")
@login_required
def document(document_id: int):
    doc = services.owned_document(current_user, document_id)
    if doc is None:
        abort(404)  # not found and not yours look the same
    try:
        return uploads.send_document("documents", doc.stored_name, doc.content_type, doc.original_name)
    except FileNotFoundError:
        abort(404)


@bp.get("/preview")
@therapist_required
def preview():
    return render_template(
        "public/therapist.html", t=_profile(), preview=True, reviews=visible_reviews(_profile()), next_free=None
    )
