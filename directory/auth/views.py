"""/auth/...: register, sign in and out, confirm email, reset password, change email or password."""

import hashlib

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from .. import account_erasure as erasure
from .. import notifications
from ..errors import show_on_form
from ..extensions import limiter
from ..models import Role
from ..service_errors import ServiceError
from . import bp, services, tokens
from .decorators import PENDING_BOOKING, safe_next
from .forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    DeleteAccountForm,
    ForgotPasswordForm,
    LoginForm,
    RegisterForm,
    ResendConfirmationForm,
    ResetPasswordForm,
)
from .tokens import TokenError


def _email_key() -> str:
    """The per-email limit's key: a digest, so the address itself never lands in
    the limiter's storage nor in its "limit exceeded" log line."""
    email = services.normalise_email(request.form.get("email", ""))
    return "email:" + hashlib.sha256(email.encode()).hexdigest()[:32]


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def register():
    return _register(Role.THERAPIST, "practice.dashboard")


@bp.route("/register/client", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def register_client():
    return _register(Role.CLIENT, "bookings.mine")


def _register(role: Role, landing: str):
    """One sign-up for both kinds of account; a therapist also gets an empty profile.

    The answer is the same whether or not the email already has an account (so
    the form tells no one who is a client here): "check your inbox". A new
    account gets its confirmation link; the owner of an existing one is told
    that someone tried, with a sign-in and a reset link.
    """
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("practice.dashboard"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            outcome = services.register(form.name.data, form.email.data, form.password.data, role)
        except ServiceError as exc:
            show_on_form(form, exc)
        else:
            if outcome.created:
                notifications.confirm_email(outcome.user, tokens.make_confirm_token(outcome.user))
            else:
                notifications.account_exists(outcome.user)
            flash(
                f"Thank you. We sent a message to {services.normalise_email(form.email.data)}: open the link in it "
                "to confirm your address. You can sign in now.",
                "success",
            )
            return redirect(url_for("auth.login", next=next_url or url_for(landing)))
    page = render_template(
        "auth/register.html", form=form, role=role.value, next_url=next_url, pending=bool(session.get(PENDING_BOOKING))
    )
    return page, 400 if form.errors else 200


@bp.route("/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            services.delete_client_account(
                current_user._get_current_object(), form.password.data, draft_key=session.get(PENDING_BOOKING)
            )
        except ServiceError as exc:
            show_on_form(form, exc, default_field="password")
        else:
            logout_user()
            session.clear()
            flash(
                "Your account is deleted, with your intakes, messages and letter. Visit records and receipt "
                "amounts stay with the therapist without your health details; your reviews stay without your name.",
                "success",
            )
            return redirect(url_for("public.home"))
    return render_template(
        "auth/delete.html", form=form, erased=erasure.ERASED, kept=erasure.KEPT, cancelled=erasure.CANCELLED
    ), 400 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
# Each address's budget. Guesses at one account from many addresses are slowed by
# services.sign_in (throttle.py), which never refuses the owner's right password.
@limiter.limit("5 per minute;20 per hour", methods=["POST"])
def login():
    form = LoginForm()
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("practice.dashboard"))
    status, headers = 400 if form.is_submitted() else 200, {}
    if form.validate_on_submit():
        try:
            user = services.sign_in(form.email.data, form.password.data, request.remote_addr or "")
        except ServiceError as exc:
            status = show_on_form(form, exc)
            if isinstance(exc, services.SignInPaused):
                headers["Retry-After"] = str(exc.seconds)
        else:
            login_user(user)
            return redirect(next_url or url_for("practice.dashboard"))
    pending = bool(session.get(PENDING_BOOKING))
    page = render_template("auth/login.html", form=form, next_url=next_url, pending=pending)
    return page, status if form.errors else 200, headers


@bp.post("/logout")
def logout():
    """Signing out ends the sessions of this account on every device, its pending
    links and calendar feed, and the booking form this browser kept for sign-in."""
    user = current_user._get_current_object() if current_user.is_authenticated else None
    services.sign_out_everywhere(user, draft_key=session.pop(PENDING_BOOKING, None))
    logout_user()
    flash("You are signed out.", "success")
    return redirect(url_for("public.home"))


@bp.get("/confirm/<token>")
def confirm(token: str):
    try:
        user = services.confirm_email(token)
    except TokenError as exc:
        return render_template("auth/token_problem.html", message=str(exc), resend=True), 400
    flash(f"Thank you: {user.email} is confirmed.", "success")
    return redirect(url_for("practice.dashboard") if current_user.is_authenticated else url_for("auth.login"))


@bp.post("/confirm/resend")
@login_required
@limiter.limit("3 per 15 minutes")
def resend_confirmation():
    if ResendConfirmationForm().validate_on_submit() and current_user.email_confirmed_at is None:
        notifications.confirm_email(current_user, tokens.make_confirm_token(current_user))
        flash(f"We sent a new confirmation link to {current_user.email}.", "success")
    return redirect(url_for("practice.dashboard"))


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit("3 per 15 minutes", methods=["POST"])
@limiter.limit("3 per 15 minutes", methods=["POST"], key_func=_email_key)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = services.find_user(form.email.data)
        if user is not None:
            notifications.password_reset(user, tokens.make_reset_token(user))
        # The same answer whether or not the account exists.
        flash("If an account uses that email, a reset link is on its way. It works for one hour.", "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form), 400 if form.errors else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def reset_password(token: str):
    try:
        user = services.user_for_reset(token)
    except TokenError as exc:
        return render_template("auth/token_problem.html", message=str(exc), resend=False), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.reset_password(token, form.password.data)
        logout_user()
        flash("Your password is changed. Sign in with the new one.", "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form, email=user.email), 400 if form.errors else 200


@bp.get("/account")
@login_required
def account():
    return _account_page(ChangeEmailForm(formdata=None, prefix="change"), ChangePasswordForm(formdata=None))


def _account_page(email_form, password_form, status=200):
    return render_template("auth/account.html", email_form=email_form, password_form=password_form), status


@bp.post("/account/password")
@login_required
@limiter.limit("10 per hour")
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(user, form.current_password.data, form.password.data)
        except ServiceError as exc:
            return _account_page(ChangeEmailForm(formdata=None, prefix="change"), form, show_on_form(form, exc))
        login_user(user)  # this device carries the new session token; every other one is signed out
        flash("Your password is changed. Your other devices were signed out.", "success")
        return redirect(url_for("auth.account"))
    return _account_page(ChangeEmailForm(formdata=None, prefix="change"), form, 400)


@bp.post("/account/email")
@login_required
@limiter.limit("5 per hour")
def request_email_change():
    form = ChangeEmailForm(prefix="change")
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            change = services.request_email_change(user, form.current_password.data, form.email.data)
        except ServiceError as exc:
            return _account_page(form, ChangePasswordForm(formdata=None), show_on_form(form, exc))
        token = None if change.taken else tokens.make_email_change_token(user, change.new_email)
        notifications.email_change(user, change.new_email, token)
        flash(
            f"We sent a link to {change.new_email}. Your address changes once you open it; until then, "
            f"keep using {user.email}.",
            "success",
        )
        return redirect(url_for("auth.account"))
    return _account_page(form, ChangePasswordForm(formdata=None), 400)


@bp.get("/email/<token>")
def change_email(token: str):
    signed_in_as = current_user.id if current_user.is_authenticated else None  # read before the token changes
    try:
        user, old_email = services.change_email(token)
    except TokenError as exc:
        return render_template("auth/token_problem.html", message=str(exc), resend=False), 400
    if signed_in_as == user.id:
        login_user(user)  # this browser carries the new session token; every other one is signed out
    flash(f"Thank you: your account now uses {user.email}.", "success")
    return redirect(url_for("auth.account") if signed_in_as == user.id else url_for("auth.login"))


@bp.get("/dev/outbox")
@login_required
def dev_outbox():
    """Development only: the outbox, for admins (mail is not really sent)."""
    if not current_app.config.get("DEV_OUTBOX_PAGE") or current_app.extensions["mailer"].server:
        abort(404)
    if not current_user.is_admin:
        abort(403)
    return render_template("auth/outbox.html", messages=current_app.extensions["mailer"].outbox()[:50])
