"""Form fields every form shares: checkboxes for slug lists, selects whose
errors name the allowed values, numbers whose errors name the field."""

from __future__ import annotations

from decimal import Decimal

from wtforms import DecimalField, IntegerField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from . import vocabulary as v

BOOL_CHOICES = [SelectChoice("", "No preference"), SelectChoice("true", "Yes"), SelectChoice("false", "No")]
TRUE_WORDS, FALSE_WORDS = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        allowed = [c.value for c in self.choices]
        unknown = [d for d in (self.data or []) if d not in allowed]
        if unknown:
            raise StopValidation(
                f"Unknown {self.short_name.rstrip('s')} {', '.join(repr(u) for u in unknown)}. "
                f"Allowed: {', '.join(allowed)}."
            )


class ChoiceField(SelectField):
    """A select whose error names the allowed values."""

    def pre_validate(self, form):
        allowed = [c.value for c in self.choices if c.value != ""]
        if self.data not in ("", None) and str(self.data) not in allowed:
            raise StopValidation(f"{self.label.text} must be one of: {', '.join(allowed)}.")


class BooleanChoiceField(ChoiceField):
    def process_formdata(self, valuelist):
        if valuelist:
            word = (valuelist[0] or "").strip().lower()
            self.data = "true" if word in TRUE_WORDS else "false" if word in FALSE_WORDS else word

    def pre_validate(self, form):
        if self.data not in ("", None, "true", "false"):
            raise StopValidation(f"{self.label.text} must be true or false.")

    @property
    def value(self) -> bool | None:
        return None if self.data in ("", None) else self.data == "true"


class NumberField(DecimalField):
    """A number whose bad input names the field: 'Radius must be a number'."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(f"{self.label.text} must be a number.") from None
        if isinstance(self.data, Decimal) and not self.data.is_finite():
            self.data = None
            raise ValueError(f"{self.label.text} must be a number.")


class WholeNumberField(IntegerField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(f"{self.label.text} must be a whole number.") from None


def slug_choices(table) -> list[SelectChoice]:
    """Every slug of a vocabulary table with its label, as form choices."""
    return [SelectChoice(slug, v.label(table, slug)) for slug in table]


def state_choices(empty: str) -> list[SelectChoice]:
    """The US states and DC, after an empty choice with the given label."""
    return [SelectChoice("", empty)] + [SelectChoice(code, name) for code, name in v.STATES.items()]
