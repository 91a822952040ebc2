"""The account emails; links are absolute so they work from a mail client."""

from flask import current_app, url_for

from . import tokens


def send_confirmation(user) -> None:
    link = url_for("auth.confirm", token=tokens.make_confirm_token(user), _external=True)
    current_app.extensions["mailer"].send(
        user.email,
        "Confirm your email for TrueTouch Directory",
        f"Hello {user.name},\n\nPlease confirm your email address by opening this link "
        f"(it works once, for 48 hours):\n\n{link}\n\nIf you did not sign up, ignore this message.\n",
    )


def send_password_reset(user) -> None:
    link = url_for("auth.reset_password", token=tokens.make_reset_token(user), _external=True)
    current_app.extensions["mailer"].send(
        user.email,
        "Reset your TrueTouch Directory password",
        f"Hello {user.name},\n\nTo choose a new password, open this link (it works once, for one hour):\n\n"
        f"{link}\n\nIf you did not ask for this, ignore this message: your password stays as it is.\n",
    )
