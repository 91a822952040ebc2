"""The therapist's own forms: profile, photo, license, certification."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from ..matching import vocabulary as v
from ..search.forms import MultiCheckboxField, NumberField, slug_choices

MIN_PRICE, MAX_PRICE = Decimal("20"), Decimal("1000")
CREDENTIAL_KINDS = v.CREDENTIAL_KINDS


class ProfileForm(FlaskForm):
    name = StringField("Name clients see", validators=[DataRequired("Enter your name."), Length(max=120)])
    bio = TextAreaField(
        "About you",
        validators=[Length(max=3000, message="Keep the bio under 3,000 characters.")],
        description="Your approach, who you like to work with, and what a first session is like.",
    )
    gender = SelectField(
        "Gender", choices=[SelectChoice("", "Prefer not to say")] + slug_choices(v.GENDERS), validators=[Optional()]
    )
    languages = MultiCheckboxField("Languages you work in", choices=slug_choices(v.LANGUAGES))
    years_experience = IntegerField(
        "Years in practice", validators=[Optional(), NumberRange(0, 70, "Enter a number of years from 0 to 70.")]
    )
    techniques = MultiCheckboxField("Techniques you offer", choices=slug_choices(v.TECHNIQUES))
    price_30 = NumberField("30 minutes ($)", validators=[Optional()])
    price_45 = NumberField("45 minutes ($)", validators=[Optional()])
    price_60 = NumberField("60 minutes ($)", validators=[Optional()])
    price_90 = NumberField("90 minutes ($)", validators=[Optional()])
    hsa_fsa = BooleanField("I accept HSA/FSA cards")
    accepting_new_clients = BooleanField("I am accepting new clients")
    mobile_radius_miles = NumberField(
        "Home visits: how far you travel (miles)",
        validators=[Optional(), NumberRange(0, 100, "Travel distance must be between 0 and 100 miles.")],
        description="Leave empty if you do not make home visits.",
    )
    address = StringField(
        "Street address",
        validators=[Optional(), Length(max=200)],
        description="Optional: only the city and state are shown to clients.",
    )
    city = StringField("City", validators=[Optional(), Length(max=100)])
    state = SelectField(
        "State",
        choices=[SelectChoice("", "Choose a state")] + [SelectChoice(c, n) for c, n in v.STATES.items()],
        validators=[Optional()],
    )
    postal_code = StringField(
        "ZIP code",
        validators=[Optional(), Regexp(r"^\s*\d{5}(-\d{4})?\s*$", message="Enter a 5-digit ZIP code, e.g. 60601.")],
    )

    PRICE_FIELDS = ("price_30", "price_45", "price_60", "price_90")

    def validate_languages(self, field):
        if not field.data:
            raise ValidationError("Choose at least one language.")

    def validate_techniques(self, field):
        if not field.data:
            raise ValidationError("Choose at least one technique.")

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        prices = [getattr(self, name) for name in self.PRICE_FIELDS]
        for f in prices:
            if f.data is not None and not (MIN_PRICE <= f.data <= MAX_PRICE):
                f.errors.append(f"Enter a price from ${MIN_PRICE} to ${MAX_PRICE}, or leave it empty.")
                ok = False
        if all(f.data is None for f in prices) and not any(f.errors for f in prices):
            self.price_60.errors.append("Give a price for at least one session length.")
            ok = False
        if not (self.postal_code.data or "").strip() and not ((self.city.data or "").strip() and self.state.data):
            self.postal_code.errors.append(
                "Enter your ZIP code, or your city and state, so clients nearby can find you."
            )
            ok = False
        return ok

    def prices(self) -> dict[int, Decimal]:
        return {
            int(name.split("_")[1]): getattr(self, name).data.quantize(Decimal("0.01"))
            for name in self.PRICE_FIELDS
            if getattr(self, name).data is not None
        }


class PhotoForm(FlaskForm):
    photo = FileField("Profile photo", description="A JPEG or PNG image up to 2 MB.")


class LicenseForm(FlaskForm):
    credential = SelectField(
        "What are you submitting?",
        choices=[SelectChoice(k, label) for k, label in CREDENTIAL_KINDS.items()],
        description="Kansas, Minnesota, Wyoming, Vermont and California issue no massage license: "
        "submit the credential you hold instead.",
        validators=[Optional()],
    )
    number = StringField(
        "License or credential number",
        validators=[
            InputRequired("Enter the number."),
            Length(min=3, max=40, message="The number has 3 to 40 characters."),
            Regexp(r"^[A-Za-z0-9][A-Za-z0-9 .\-/]*$", message="Use letters, digits, spaces, dots, dashes or slashes."),
        ],
    )
    state = SelectField(
        "Issuing state",
        choices=[SelectChoice("", "Choose a state")] + [SelectChoice(c, n) for c, n in v.STATES.items()],
        validators=[InputRequired("Choose the state.")],
    )
    expires_on = DateField(
        "Expires on",
        validators=[InputRequired("Enter the expiry date.")],
        description="The date printed on the license.",
    )
    document = FileField("Document", description="A scan or photo of the license: PDF, JPEG or PNG, up to 5 MB.")

    def validate_state(self, field):
        if field.data and field.data not in v.STATES:
            raise ValidationError("Choose a US state or DC from the list.")
        issues_none = field.data in v.NO_LICENSE_STATES
        if not self.credential.data and issues_none:
            raise ValidationError(f"{v.NO_LICENSE_STATES[field.data]}. Choose the credential you hold above.")
        if self.credential.data and not issues_none:
            raise ValidationError(
                f"{v.STATES.get(field.data, field.data)} issues massage licenses: submit your state license."
            )

    def validate_credential(self, field):
        if field.data not in CREDENTIAL_KINDS:
            raise ValidationError("Choose one of the listed credentials.")

    def validate_expires_on(self, field):
        if field.data and field.data <= date.today():
            raise ValidationError("The expiry date must be in the future. An expired license cannot be listed.")


class CertificationForm(FlaskForm):
    slug = SelectField(
        "Certification",
        choices=[SelectChoice("", "Choose a certification")] + slug_choices(v.CERTIFICATIONS),
        validators=[InputRequired("Choose the certification.")],
    )
    issuer = StringField("Issued by", validators=[Optional(), Length(max=120)])
    expires_on = DateField("Expires on", validators=[Optional()], description="Leave empty if it does not expire.")
    document = FileField("Certificate", description="PDF, JPEG or PNG, up to 5 MB.")

    def validate_slug(self, field):
        if field.data not in v.CERTIFICATIONS:
            raise ValidationError("Choose one of the listed certifications.")

    def validate_expires_on(self, field):
        if field.data and field.data <= date.today():
            raise ValidationError("The expiry date must be in the future.")


class ConfirmForm(FlaskForm):
    """A bare POST form (CSRF only), for buttons such as 'remove photo'."""
