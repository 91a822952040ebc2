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


def send_account_exists(user) -> None:
    """Someone signed up with an email that already has an account: tell its
    owner, rather than telling whoever filled in the form."""
    login = url_for("auth.login", _external=True)
    reset = url_for("auth.forgot_password", _external=True)
    current_app.extensions["mailer"].send(
        user.email,
        "You already have a TrueTouch Directory account",
        f"Hello {user.name},\n\nSomeone, perhaps you, tried to create a new account with this email address. "
        f"You already have one: sign in here:\n\n{login}\n\nForgot your password? Choose a new one here:\n\n"
        f"{reset}\n\nIf it was not you, ignore this message: nothing has changed.\n",
    )
