"""The knowledge-gap and figures screens: what visitors asked and did not get, and how the desk is doing."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ui.edge import desk_of
from ui.staff.chart import weekly_bars
from ui.staff.pages import render

router = APIRouter(prefix="/staff", include_in_schema=False)
KIND_LABELS = {"answer": "questions for the documents", "smalltalk": "small talk", "contact": "asked for a person"}
PERIODS = (7, 30, 90, 365)


def _days(days: int, default: int) -> int:
    return days if days in PERIODS else default


@router.get("/gaps", response_class=HTMLResponse)
def gaps(request: Request, days: int = 90) -> HTMLResponse:
    desk = desk_of(request)
    days = _days(days, 90)
    context = {
        "title": "Knowledge gaps",
        "section": "gaps",
        "gaps": desk.reports.knowledge_gaps(days),
        "days": days,
        "periods": PERIODS,
    }
    return render(request, "gaps.html", context)


@router.get("/figures", response_class=HTMLResponse)
def figures(request: Request, days: int = 30) -> HTMLResponse:
    desk = desk_of(request)
    days = _days(days, 30)
    shown = desk.reports.figures(days)
    context = {
        "title": "Figures",
        "section": "figures",
        "f": shown,
        "chart": weekly_bars(shown.weekly),
        "kinds": KIND_LABELS,
        "days": days,
        "periods": PERIODS,
    }
    return render(request, "figures.html", context)
