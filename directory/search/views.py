"""The /search page: a GET form, results with reasons, a safety box and a plan box."""

from flask import current_app, render_template, request

from .. import stats
from ..errors import show_on_form
from ..extensions import replica_reads
from ..service_errors import ServiceError
from . import bp
from .forms import SearchForm, read_args
from .services import search as run_search


@bp.get("/search")
@replica_reads
def search():
    args, not_understood = read_args(request.args)
    form = SearchForm.showing(args) if request.args else SearchForm(formdata=None)
    result, status = None, 200
    if not_understood:
        # People reach this page from shared links: a part of the link we do not
        # understand is said, not dropped, and nothing is searched on what is left.
        status = 400
    elif request.args:
        if parameters := form.check(args):
            try:
                result = run_search(parameters.query(), current_app.extensions["geocoder"])
                stats.count_shown([m.candidate.id for m in result.outcome.results])
            except ServiceError as exc:
                status = show_on_form(form, exc)
        else:
            status = 400
    return render_template("search/search.html", form=form, result=result, not_understood=not_understood), status
