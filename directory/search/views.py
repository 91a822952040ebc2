"""The /search page: a GET form, result cards with their next free times, a safety box and a plan box."""

from dataclasses import replace

from flask import current_app, render_template, request
from werkzeug.datastructures import MultiDict

from .. import stats
from ..errors import show_on_form
from ..extensions import replica_reads
from ..service_errors import ServiceError
from . import bp
from .forms import SearchForm, read_args
from .services import SORTS
from .services import search as run_search

# Parameters of the page alone (the API does not take them): how the results are sorted.
PAGE_PARAMETERS = ("sort",)


@bp.get("/search")
@replica_reads
def search():
    page_args = MultiDict((k, v) for k, v in request.args.items(multi=True) if k not in PAGE_PARAMETERS)
    args, not_understood = read_args(page_args)
    sort = request.args.get("sort") or "best"
    if sort not in SORTS or len(request.args.getlist("sort")) > 1:
        not_understood.append(("sort", f"Sort by one of: {', '.join(SORTS)} ('sort' was {sort!r})."))
    form = SearchForm.showing(args) if page_args else SearchForm(formdata=None)
    result, status = None, 200
    if not_understood:
        # People reach this page from shared links: a part of the link we do not
        # understand is said, not dropped, and nothing is searched on what is left.
        status = 400
    elif page_args:
        if parameters := form.check(args):
            try:
                query = replace(parameters.query(), sort=sort)
                result = run_search(query, current_app.extensions["geocoder"], for_page=True)
                stats.count_shown([m.candidate.id for m in result.outcome.results])
            except ServiceError as exc:
                status = show_on_form(form, exc)
        else:
            status = 400
    page = render_template(
        "search/search.html", form=form, result=result, not_understood=not_understood, sort=sort, sorts=SORTS
    )
    # The address can carry a client's health conditions: no cache, shared or not, keeps the page.
    return page, status, {"Cache-Control": "private, no-store"} if request.args else {}
