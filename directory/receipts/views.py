"""/account/receipts: a visit's receipt (printable page and PDF), the yearly
statement, and the client's letter of medical necessity.

A receipt is for the visit's client and its therapist; anyone else, admins
included, finds nothing there. The letter is for its client alone.
"""

from __future__ import annotations

import io
from datetime import UTC

from flask import abort, flash, make_response, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required

from .. import clock, uploads
from ..errors import show_on_form
from ..models import Role
from ..service_errors import ServiceError
from . import bp, services
from .forms import ConfirmForm, LetterForm


def _private(response):
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _receipt_or_404(booking_id: int):
    found = services.receipt_to_read(current_user, booking_id)
    if found is None:
        abort(404)  # another person's receipt looks like no receipt
    return found


@bp.get("/account/bookings/<int:booking_id>/receipt")
@login_required
def receipt(booking_id: int):
    found, side, text = _receipt_or_404(booking_id)
    return _private(make_response(render_template("receipts/receipt.html", r=found, side=side, text=text)))


@bp.get("/account/bookings/<int:booking_id>/receipt.pdf")
@login_required
def receipt_pdf(booking_id: int):
    _found, _side, text = _receipt_or_404(booking_id)
    from . import pdf  # here: fpdf2 is 43 MB that only a PDF download needs, not every process

    return _pdf_download(pdf.receipt_pdf(text), f"receipt-{text.number}.pdf")


def _pdf_download(data: bytes, name: str):
    return _private(
        send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True, download_name=name, max_age=0)
    )


def _client_only():
    if current_user.role != Role.CLIENT:
        abort(403)


@bp.get("/account/receipts")
@login_required
def index():
    _client_only()
    return _index_page(LetterForm(formdata=None))


def _index_page(form: LetterForm, status: int = 200):
    return render_template(
        "receipts/index.html",
        years=services.receipt_years(current_user),
        letter=services.letter_of(current_user),
        form=form,
        remove_form=ConfirmForm(),
        today=clock.today_in(UTC),
    ), status


def _year_or_404(year: int) -> int:
    if not 2000 <= year <= clock.today_in(UTC).year + 1:
        abort(404)
    return year


@bp.get("/account/receipts/<int:year>")
@login_required
def yearly(year: int):
    _client_only()
    summary = services.statement(current_user, _year_or_404(year))
    return _private(make_response(render_template("receipts/statement.html", s=summary)))


@bp.get("/account/receipts/<int:year>.pdf")
@login_required
def yearly_pdf(year: int):
    _client_only()
    summary = services.statement(current_user, _year_or_404(year))
    from . import pdf

    return _pdf_download(pdf.statement_pdf(summary), f"hsa-fsa-statement-{year}.pdf")


@bp.post("/account/receipts/letter")
@login_required
def save_letter():
    _client_only()
    form = LetterForm()
    status = 400
    if form.validate_on_submit():
        storage = form.document.data
        upload = storage if storage is not None and storage.filename else None
        try:
            services.save_letter(current_user, upload, form.expires_on.data)
        except ServiceError as exc:
            status = show_on_form(form, exc, default_field="document")
        else:
            flash("Letter of medical necessity kept on file. Your receipts now say so.", "success")
            return redirect(url_for("receipts.index"))
    return _index_page(form, status)


@bp.get("/account/receipts/letter")
@login_required
def letter_file():
    _client_only()
    letter = services.letter_of(current_user)
    if letter is None:
        abort(404)
    response = send_file(
        io.BytesIO(letter.data),
        mimetype=letter.content_type,
        download_name=letter.original_name,
        as_attachment=True,
        max_age=0,
    )
    return _private(uploads.guard_document(response))


@bp.post("/account/receipts/letter/remove")
@login_required
def remove_letter():
    _client_only()
    if ConfirmForm().validate_on_submit() and services.remove_letter(current_user):
        flash("Letter removed.", "success")
    return redirect(url_for("receipts.index"))
