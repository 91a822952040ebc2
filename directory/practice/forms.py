"""The therapist's own forms: profile, photo, license, certification.

The forms check the shape of what was typed (a number is a number, a date a
date); the rules (price range, a location, the no-license states...) are the
profile service's, shared with the import (therapists/profiles.py).
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional, Regexp

from .. import vocabulary as v
from ..form_fields import MultiCheckboxField, NumberField, slug_choices, state_choices
from ..therapists.profiles import CertificationData, LicenseData, ProfileData

PRICE_FIELDS = ("price_30", "price_45", "price_60", "price_90")


class ProfileForm(FlaskForm):
    PRICE_FIELDS = PRICE_FIELDS

    name = StringField("Name clients see")
    bio = TextAreaField(
        "About you", description="Your approach, who you like to work with, and what a first session is like."
    )
    gender = SelectField(
        "Gender", choices=[SelectChoice("", "Prefer not to say")] + slug_choices(v.GENDERS), validators=[Optional()]
    )
    languages = MultiCheckboxField("Languages you work in", choices=slug_choices(v.LANGUAGES))
    years_experience = IntegerField("Years in practice", validators=[Optional()])
    techniques = MultiCheckboxField("Techniques you offer", choices=slug_choices(v.TECHNIQUES))
    price_30 = NumberField("30 minutes ($)", validators=[Optional()])
    price_45 = NumberField("45 minutes ($)", validators=[Optional()])
    price_60 = NumberField("60 minutes ($)", validators=[Optional()])
    price_90 = NumberField("90 minutes ($)", validators=[Optional()])
    hsa_fsa = BooleanField("I accept HSA/FSA cards")
    accepting_new_clients = BooleanField("I am accepting new clients")
    mobile_radius_miles = NumberField(
        "Home visits: how far you travel (miles)",
        validators=[Optional()],
        description="Leave empty if you do not make home visits.",
    )
    address = StringField(
        "Street address",
        description="Optional. Clients see it on your profile and bookings, with a map link; for a practice at "
        "home, choose on the Availability page to show only your area until you confirm a booking.",
    )
    city = StringField("City")
    state = SelectField("State", choices=state_choices("Choose a state"), validators=[Optional()])
    postal_code = StringField(
        "ZIP code",
        validators=[Optional(), Regexp(r"^\s*\d{5}(-\d{4})?\s*$", message="Enter a 5-digit ZIP code, e.g. 60601.")],
    )
    npi = StringField(
        "NPI (National Provider Identifier)",
        description="Optional: the 10-digit number on your NPI letter. Administrators check it against the "
        "federal NPPES registry; receipts for HSA/FSA claims show it.",
    )

    def data_for_service(self) -> ProfileData:
        radius = self.mobile_radius_miles.data
        return ProfileData(
            name=(self.name.data or "").strip(),
            bio=(self.bio.data or "").strip(),
            gender=self.gender.data or None,
            languages=tuple(self.languages.data or ()),
            years_experience=self.years_experience.data,
            techniques=tuple(self.techniques.data or ()),
            prices={int(name.split("_")[1]): self[name].data for name in PRICE_FIELDS if self[name].data is not None},
            hsa_fsa=bool(self.hsa_fsa.data),
            accepting_new_clients=bool(self.accepting_new_clients.data),
            mobile_radius_miles=float(radius) if radius else None,
            address=(self.address.data or "").strip(),
            city=(self.city.data or "").strip(),
            state=self.state.data or "",
            postal_code=(self.postal_code.data or "").strip(),
            npi=(self.npi.data or "").strip(),
        )


class PhotoForm(FlaskForm):
    photo = FileField("Profile photo", description="A JPEG or PNG image up to 2 MB.")


class LicenseForm(FlaskForm):
    credential = SelectField(
        "What are you submitting?",
        choices=[SelectChoice(k, label) for k, label in v.CREDENTIAL_KINDS.items()],
        description="Kansas, Minnesota, Wyoming, Vermont and California issue no massage license: "
        "submit the credential you hold instead.",
        validators=[Optional()],
        validate_choice=False,
    )
    number = StringField("License or credential number", validators=[InputRequired("Enter the number.")])
    state = SelectField(
        "Issuing state",
        choices=state_choices("Choose a state"),
        validators=[InputRequired("Choose the state.")],
    )
    expires_on = DateField(
        "Expires on",
        validators=[InputRequired("Enter the expiry date.")],
        description="The date printed on the license.",
    )
    document = FileField("Document", description="A scan or photo of the license: PDF, JPEG or PNG, up to 5 MB.")

    def data_for_service(self) -> LicenseData:
        return LicenseData(
            number=(self.number.data or "").strip(),
            state=self.state.data or "",
            expires_on=self.expires_on.data,
            credential=self.credential.data or None,
        )


class CertificationForm(FlaskForm):
    slug = SelectField(
        "Certification",
        choices=[SelectChoice("", "Choose a certification")] + slug_choices(v.CERTIFICATIONS),
        validators=[InputRequired("Choose the certification.")],
        validate_choice=False,
    )
    issuer = StringField("Issued by")
    expires_on = DateField("Expires on", validators=[Optional()], description="Leave empty if it does not expire.")
    document = FileField("Certificate", description="PDF, JPEG or PNG, up to 5 MB.")

    def data_for_service(self) -> CertificationData:
        return CertificationData(
            slug=self.slug.data or "", issuer=(self.issuer.data or "").strip()[:120], expires_on=self.expires_on.data
        )


class ConfirmForm(FlaskForm):
    """A bare POST form (CSRF only), for buttons such as 'remove photo'."""
