"""Sign-up, sign-in and password forms."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from .passwords import MAX_LENGTH, password_problem


class _NewPassword:
    """The new password must pass the password rules (common-password check included)."""

    def __call__(self, form, field):
        inputs = [getattr(form, name).data for name in ("email", "name") if hasattr(form, name)]
        problem = password_problem(field.data or "", *[i for i in inputs if i])
        if problem:
            raise ValidationError(problem)


class RegisterForm(FlaskForm):
    name = StringField("Your full name", validators=[DataRequired("Enter your name."), Length(max=120)])
    email = EmailField(
        "Email",
        validators=[DataRequired("Enter your email address."), Email("Enter a valid email address."), Length(max=254)],
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Choose a password."), _NewPassword()],
        description="At least 10 characters. Avoid common passwords; a short sentence works well.",
    )
    confirm = PasswordField("Repeat the password", validators=[EqualTo("password", "The passwords do not match.")])


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email address."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=MAX_LENGTH)])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired("Enter your email address."), Email("Enter a valid email address."), Length(max=254)],
    )


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired("Choose a password."), _NewPassword()],
        description="At least 10 characters, not a common password.",
    )
    confirm = PasswordField("Repeat the new password", validators=[EqualTo("password", "The passwords do not match.")])


class ResendConfirmationForm(FlaskForm):
    pass


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password."), Length(max=MAX_LENGTH)]
    )
    password = PasswordField(
        "New password",
        validators=[DataRequired("Choose a new password."), Length(max=MAX_LENGTH)],
        description="At least 10 characters, not a common password. Your other devices will be signed out.",
    )
    confirm = PasswordField("Repeat the new password", validators=[EqualTo("password", "The passwords do not match.")])


class ChangeEmailForm(FlaskForm):
    email = EmailField(
        "New email address",
        validators=[DataRequired("Enter the new address."), Email("Enter a valid email address."), Length(max=254)],
        description="We send a link to it; your address changes once you open that link.",
    )
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password."), Length(max=MAX_LENGTH)]
    )


class DeleteAccountForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired("Enter your password to confirm.")])
