"""The inbox screen (`/staff/`): enquiries at a glance, filtered, searched, sorted and paged; a click opens one.

The filter form is an ordinary GET form; htmx swaps only the results as the filters change (and keeps the address
in step), and without script the form reloads the page. The same query string travels to an opened enquiry, so its
previous/next links walk the inbox as filtered.
"""

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from assistant.desk import Channel, EnquiryStatus, Filters
from ui.edge import desk_of
from ui.staff.auth import check_csrf, staff_of
from ui.staff.pages import is_htmx, render
from ui.staff.present import PRIORITY_ORDER

PER_PAGE = 25
FILTER_NAMES = ("status", "category", "priority", "channel", "partner", "assignee", "q", "sort", "overdue", "unread")
MAX_FILTER_CHARS = 320
DEFAULT_SORT = ("sort", "received")

router = APIRouter(prefix="/staff", include_in_schema=False, dependencies=[Depends(check_csrf)])


def filters_of(request: Request) -> Filters:
    """The inbox filters in this request's query string (unknown or oversized values are ignored)."""
    raw = {name: request.query_params.get(name, "")[:MAX_FILTER_CHARS].strip() for name in FILTER_NAMES}
    assignee = staff_of(request).email if raw["assignee"] == "me" else raw["assignee"]
    return Filters(
        status=raw["status"] if raw["status"] in tuple(EnquiryStatus) else "",
        category=raw["category"],
        priority=raw["priority"] if raw["priority"] in PRIORITY_ORDER else "",
        channel=raw["channel"] if raw["channel"] in tuple(Channel) else "",
        partner=raw["partner"],
        breached=raw["overdue"] in ("1", "on", "true"),
        unread=raw["unread"] in ("1", "on", "true"),
        q=raw["q"],
        assignee=assignee,
        sort="due" if raw["sort"] == "due" else "received",
    )


def kept_query(request: Request, **changes: str | int) -> str:
    """This request's filters as a query string, with `changes` (a page number, a status) applied."""
    params = {name: request.query_params.get(name, "") for name in (*FILTER_NAMES, "page")}
    params.update({name: str(value) for name, value in changes.items()})
    return urlencode({name: value for name, value in params.items() if value and (name, value) != DEFAULT_SORT})


@router.get("", response_class=RedirectResponse)
def staff_root() -> RedirectResponse:
    return RedirectResponse("/staff/", status_code=308)


@router.get("/", response_class=HTMLResponse)
def inbox(request: Request, page: int = 1) -> HTMLResponse:
    desk = desk_of(request)
    filters = filters_of(request)
    shown = desk.enquiries.page(filters, max(1, page), PER_PAGE)
    context = {
        "title": "Inbox",
        "section": "inbox",
        "page": shown,
        "filters": filters,
        "raw": {name: request.query_params.get(name, "") for name in FILTER_NAMES},
        "statuses": tuple(EnquiryStatus),
        "categories": desk.enquiries.categories(),
        "priorities": PRIORITY_ORDER,
        "channels": tuple(Channel),
        "staff": desk.accounts.active(),
        "query": kept_query(request, page=""),
        "kept": lambda **changes: kept_query(request, **changes),
    }
    response = render(request, "inbox.html", context)
    if is_htmx(request):  # the address bar shows the filters as a link would say them, without the empty ones
        response.headers["HX-Push-Url"] = "/staff/" + (f"?{context['query']}" if context["query"] else "")
    return response
