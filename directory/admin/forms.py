"""Admin forms: decisions, suspensions, and the search-and-filter form of each list."""

from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..form_fields import ChoiceField, state_choices
from . import lists
from .lists import ListQuery


class DecisionForm(FlaskForm):
    reason = TextAreaField("Reason for rejecting (the therapist reads this)", validators=[Optional(), Length(max=1000)])


class OutboxRetryForm(FlaskForm):
    """A retry button: the CSRF token only."""


class SuspensionForm(FlaskForm):
    reason = TextAreaField(
        "Reason (kept in the audit log)", validators=[DataRequired("Give the reason."), Length(max=1000)]
    )


def _choices(any_label: str, table: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice("", any_label)] + [SelectChoice(value, label) for value, label in table.items()]


class ListForm(FlaskForm):
    """A GET search over one admin list. A filter with a value the list does not know is
    shown with its error and left out, rather than guessed at."""

    class Meta:
        csrf = False

    FILTERS: tuple[str, ...] = ()
    q = StringField("Search", validators=[Optional(), Length(max=120)])
    page = IntegerField("Page", validators=[Optional()])

    def to_query(self) -> ListQuery:
        self.validate()

        def value(name: str) -> str:
            field = self._fields.get(name)
            return (field.data or "") if field is not None and not field.errors else ""

        page = self.page.data if isinstance(self.page.data, int) and self.page.data > 0 else 1
        return ListQuery(
            text="" if self.q.errors else (self.q.data or "").strip(),
            state=value("state"),
            kind=value("kind"),
            age=value("age"),
            status=value("status"),
            page=page,
        )

    @classmethod
    def carried(cls, args, page: int | None = None) -> dict[str, str]:
        """The list's own search, filters and page from `args`, to build its URLs with:
        nothing else a URL may carry (`_external`, `_method`, `_anchor` and any other
        name url_for reads as an instruction) ever reaches url_for."""
        names = ("q", *cls.FILTERS, "page")
        kept = {name: value for name, value in args.items() if name in names and isinstance(value, str)}
        if page is not None:
            kept["page"] = str(page)
        return {name: value for name, value in kept.items() if value}  # in the order the URL gave them

    def filters(self):
        """The fields the page shows, search box first (the page number travels in the pager)."""
        return [self.q] + [self[name] for name in self.FILTERS]


class VerificationFilters(ListForm):
    FILTERS = ("state", "kind", "age", "status")
    q = StringField("Name, email or license number", validators=[Optional(), Length(max=120)])
    state = ChoiceField("State", choices=state_choices("Any state"), validators=[Optional()])
    kind = ChoiceField("Kind", choices=_choices("Licenses and certifications", lists.QUEUE_KINDS))
    age = ChoiceField("Waiting", choices=_choices("Any time", lists.QUEUE_AGES))
    status = ChoiceField(
        "Status",
        choices=[SelectChoice("", "Pending (to decide)")]
        + [SelectChoice(v, label) for v, label in lists.QUEUE_STATUSES.items() if v != "pending"],
    )


class TherapistFilters(ListForm):
    FILTERS = ("state", "kind", "age", "status")
    q = StringField("Name, email, NPI or license number", validators=[Optional(), Length(max=120)])
    state = ChoiceField("State", choices=state_choices("Any state"), validators=[Optional()])
    kind = ChoiceField("Credential", choices=_choices("Any credential", lists.THERAPIST_KINDS))
    age = ChoiceField("Joined", choices=_choices("Any time", lists.THERAPIST_AGES))
    status = ChoiceField("Status", choices=_choices("Any status", lists.THERAPIST_STATUSES))


class AuditFilters(ListForm):
    FILTERS = ("kind", "age")
    q = StringField("Who, subject or note", validators=[Optional(), Length(max=120)])
    kind = ChoiceField("What", choices=_choices("Every kind of entry", lists.AUDIT_KINDS))
    age = ChoiceField("When", choices=_choices("Any time", lists.RECENT_AGES))


class BookingFilters(ListForm):
    FILTERS = ("state", "kind", "age", "status")
    q = StringField("Therapist or client", validators=[Optional(), Length(max=120)])
    state = ChoiceField("Therapist's state", choices=state_choices("Any state"), validators=[Optional()])
    kind = ChoiceField("Length", choices=_choices("Any length", lists.BOOKING_KINDS))
    age = ChoiceField("When", choices=_choices("Any time", lists.BOOKING_AGES))
    status = ChoiceField("Status", choices=_choices("Any status", lists.BOOKING_STATUSES))


class ReviewFilters(ListForm):
    FILTERS = ("state", "kind", "age", "status")
    q = StringField("Text, author or therapist", validators=[Optional(), Length(max=120)])
    state = ChoiceField("Therapist's state", choices=state_choices("Any state"), validators=[Optional()])
    kind = ChoiceField("Rating", choices=_choices("Any rating", lists.REVIEW_KINDS))
    age = ChoiceField("Written", choices=_choices("Any time", lists.RECENT_AGES))
    status = ChoiceField("Shown", choices=_choices("Shown or hidden", lists.REVIEW_STATUSES))
