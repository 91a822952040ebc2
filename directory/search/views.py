"""The /search page: a GET form, results with reasons, a safety box and a plan box."""

from flask import current_app, render_template, request

from .. import stats
from ..errors import show_on_form
from ..extensions import replica_reads
from ..service_errors import ServiceError
from . import bp
from .forms import SearchForm, normalise_args
from .services import search as run_search


@bp.get("/search")
@replica_reads
def search():
    form = SearchForm(formdata=normalise_args(request.args) if request.args else None)
    result, status = None, 200
    if request.args:
        if form.validate():
            try:
                result = run_search(form.query(), current_app.extensions["geocoder"])
                stats.count_shown([m.candidate.id for m in result.outcome.results])
            except ServiceError as exc:
                status = show_on_form(form, exc)
        else:
            status = 400
    return render_template("search/search.html", form=form, result=result), status
