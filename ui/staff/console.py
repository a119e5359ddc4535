"""The staff console (Gradio, mounted at `/staff`, behind sign-in): inbox, enquiry, knowledge gaps, figures.

It calls the same `Desk` methods as the staff API (`ui/staff/routes.py`); the signed-in member's e-mail is the audit
actor.
"""

import json
from typing import Any

import gradio as gr

from assistant.desk import STATUSES, Desk, EnquiryUpdate, Filters
from assistant.errors import AssistantError
from ui.chat import DELETE_CACHE
from ui.render import error_markdown, escape_markdown, plain_block, plain_markdown

INBOX_COLUMNS = ["id", "received", "status", "category", "priority", "due_at", "sla_breached", "channel", "partner",
                 "name", "organisation", "preview"]  # fmt: skip


def _actor(request: gr.Request) -> str:
    return str(request.username or "unknown")


def enquiry_markdown(d: dict[str, Any]) -> str:
    """The enquiry as Markdown; what the public wrote is plain text (a code block for the message), never links or
    maths (the Markdown view also has KaTeX off)."""
    e = plain_markdown
    lines = [
        f"## Enquiry {d['id']}: {e(d['subject'] or d['preview'])}",
        f"**From** {e(d['name'])} <{e(d['email'])}>" + (f", {e(d['organisation'])}" if d["organisation"] else ""),
        f"**Received** {d['received']} via {d['channel']}" + (f" (partner {e(d['partner'])})" if d["partner"] else ""),
        f"**Status** {d['status']} · **Priority** {d['priority']} · **Due** {d['due_at']}"
        + (" · **SLA breached**" if d["sla_breached"] else "")
        + (f" · **Assigned** {e(d['assignee'])}" if d["assignee"] else ""),
        f"**Consent** {e(d['consent_version'])}"
        + (f" · merged duplicates: {d['duplicates']}" if d["duplicates"] else ""),
        "",
        "### Message",
        plain_block(d["message"]),
    ]
    reasons = d.get("reasons") or {}
    ranked = ", ".join(f"{name} {p:.0%}" for name, p in reasons.get("ranked", []))
    lines += [
        "",
        f"### Classification: {e(d['category'] or 'not triaged')} → {e(d['route'] or '')}",
        f"Confidence {d['confidence'] or 0:.0%}" + (" — **needs review**" if d["needs_review"] else ""),
        f"Ranked: {ranked}" if ranked else "",
        "Decided by: " + "; ".join(e(x) for x in reasons.get("evidence", [])) if reasons.get("evidence") else "",
        "Urgency cues: " + ", ".join(e(c) for c in reasons.get("urgency_cues", []))
        if reasons.get("urgency_cues")
        else "",
    ]
    if d["transcript"]:
        lines += ["", "### Conversation before the hand-off"]
        lines += [f"- **{t['role']}**: {e(t['content'])}" for t in d["transcript"]]
    if d["notes"]:
        lines += ["", "### Internal notes"] + [f"- {e(n['author'])} ({n['at']}): {e(n['text'])}" for n in d["notes"]]
    if d["related"]:
        lines += ["", "### Same sender or organisation"]
        lines += [f"- #{r['id']} {r['received'][:10]} {r['status']} {e(r['preview'])}" for r in d["related"]]
    # Markdown joins single newlines: every line is its own paragraph here.
    return "\n\n".join(line for line in lines if line)


KIND_LABELS = {"answer": "questions for the documents", "smalltalk": "small talk", "contact": "asked for a person"}


def figures_markdown(f: dict[str, Any]) -> str:
    """The figures as tables a person reads: volume by category, response and SLA, partners' widget use."""
    median = f["first_response_hours_median"]
    lines = [
        f"### Last {f['days']} days",
        f"Median first response: **{'no replies yet' if median is None else f'{median} hours'}** · "
        f"SLA breaches: **{f['sla_breaches']}**",
        "",
        "| category | enquiries |",
        "|---|---|",
        *(f"| {escape_markdown(k)} | {v} |" for k, v in sorted(f["volume_by_category"].items())),
        "",
        "| messages to the assistant | count |",
        "|---|---|",
        *(f"| {KIND_LABELS.get(k, k)} | {v} |" for k, v in sorted(f.get("messages_by_kind", {}).items())),
        "",
        "| partner | day | widget questions | abstention rate | hand-offs |",
        "|---|---|---|---|---|",
        *(
            f"| {escape_markdown(p['partner'])} | {p['day']} | {p['questions']} | {p['abstention_rate']:.0%} | "
            f"{p['handoffs']} |"
            for p in f["partners"]
        ),
    ]
    return "\n".join(lines)


def build_console(desk: Desk) -> gr.Blocks:
    categories = desk.categories()

    def load_inbox(
        status: str, category: str, priority: str, channel: str, partner: str, breached: bool, q: str
    ) -> list[list[Any]]:
        rows = desk.inbox(Filters(status, category, priority, channel, partner.strip(), breached, q.strip()))
        return [[r[c] for c in INBOX_COLUMNS] for r in rows]

    def show(enquiry_id: float | None) -> tuple[str, str, list[list[Any]], str]:
        if not enquiry_id:
            return "Choose an enquiry in the inbox.", "", [], ""
        try:
            d = desk.enquiry(int(enquiry_id))
        except AssistantError as exc:
            return error_markdown(exc), "", [], ""
        trail = [[a["at"], a["who"], a["what"], json.dumps(a["detail"])] for a in d["audit"]]
        return enquiry_markdown(d), d["reply"] or d["draft"] or "", trail, d["status"]

    def act(
        enquiry_id: float | None, update: EnquiryUpdate, request: gr.Request
    ) -> tuple[str, str, list[list[Any]], str, str]:
        if not enquiry_id:
            return (*show(None), "Choose an enquiry first.")
        try:
            desk.update(int(enquiry_id), update, _actor(request))
            done = "Saved."
        except AssistantError as exc:
            done = error_markdown(exc)
        return (*show(enquiry_id), done)

    def doing(field: str):  # type: ignore[no-untyped-def]
        """An event handler that applies one field; Gradio injects `request` by its annotation."""

        def handler(enquiry_id: float | None, value: str, request: gr.Request):  # type: ignore[no-untyped-def]
            return act(enquiry_id, EnquiryUpdate(**{field: value}), request)

        return handler

    def pick(rows: Any, event: gr.SelectData) -> float | None:
        row = event.index[0] if isinstance(event.index, list | tuple) else event.index
        return float(rows.iloc[row, 0]) if hasattr(rows, "iloc") else float(rows[row][0])

    def gaps() -> list[list[Any]]:
        report = desk.knowledge_gaps()
        return [[g["topic"], g["count"], " | ".join(g["examples"])] for g in report]

    def numbers() -> str:
        return figures_markdown(desk.figures())

    private: dict[str, Any] = {"api_visibility": "private"}
    with gr.Blocks(title="Cluster staff console", analytics_enabled=False, delete_cache=DELETE_CACHE) as console:
        gr.Markdown("# Cluster staff console")
        selected = gr.Number(label="Enquiry id", precision=0, value=None)
        with gr.Tab("Inbox"):
            with gr.Row():
                status = gr.Dropdown(["", *STATUSES], value="", label="Status")
                category = gr.Dropdown(["", *categories], value="", label="Category")
                priority = gr.Dropdown(["", "low", "normal", "high", "urgent"], value="", label="Priority")
                channel = gr.Dropdown(["", "chat", "widget", "api", "email", "csv"], value="", label="Channel")
            with gr.Row():
                partner = gr.Textbox(label="Partner id")
                query = gr.Textbox(label="Search")
                breached = gr.Checkbox(label="SLA breached only")
                refresh = gr.Button("Show enquiries", variant="primary")
            table = gr.Dataframe(headers=INBOX_COLUMNS, label="Enquiries", interactive=False, wrap=True)
        with gr.Tab("Enquiry"):
            load = gr.Button("Open the enquiry")
            view = gr.Markdown(latex_delimiters=[])  # "$…$" in a message is text, not maths
            reply = gr.Textbox(label="Reply (draft from the documents; edit, then approve)", lines=14)
            approve = gr.Button("Approve reply", variant="primary")
            with gr.Row():
                new_status = gr.Dropdown(list(STATUSES), value=None, label="Move to status")
                set_status = gr.Button("Set status")
            with gr.Row():
                assignee = gr.Textbox(label="Assign to (e-mail)")
                set_assignee = gr.Button("Assign")
            with gr.Row():
                correct = gr.Dropdown(categories, value=None, label="Correct the category (it learns from this)")
                set_category = gr.Button("Correct category")
            with gr.Row():
                note = gr.Textbox(label="Internal note")
                add_note = gr.Button("Add note")
            outcome = gr.Markdown(elem_id="outcome")
            current = gr.Textbox(visible=False)
            audit = gr.Dataframe(headers=["when", "who", "what", "detail"], label="Audit trail", interactive=False)
        with gr.Tab("Knowledge gaps"):
            gr.Markdown("Questions from chat and widget that were not answered or were rated down, by topic.")
            gap_button = gr.Button("Build the report")
            gap_table = gr.Dataframe(headers=["topic", "count", "examples"], interactive=False, wrap=True)
        with gr.Tab("Figures"):
            figure_button = gr.Button("Show figures")
            figure_view = gr.Markdown()
        gr.HTML('<form method="post" action="/logout"><button type="submit">Sign out</button></form>')
        filters = [status, category, priority, channel, partner, breached, query]
        refresh.click(load_inbox, filters, table, **private)
        console.load(load_inbox, filters, table, **private)
        table.select(pick, table, selected, **private).then(show, selected, [view, reply, audit, current], **private)
        load.click(show, selected, [view, reply, audit, current], **private)
        shown = [view, reply, audit, current, outcome]
        approve.click(doing("reply"), [selected, reply], shown, **private)
        set_status.click(doing("status"), [selected, new_status], shown, **private)
        set_assignee.click(doing("assignee"), [selected, assignee], shown, **private)
        set_category.click(doing("category"), [selected, correct], shown, **private)
        add_note.click(doing("note"), [selected, note], shown, **private)
        gap_button.click(gaps, None, gap_table, **private)
        figure_button.click(numbers, None, figure_view, **private)
    return console
