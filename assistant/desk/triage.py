"""Staff triage: classify, prioritise and route enquiries, draft a cited reply, and move them through the workflow.

Every change goes through `audit`, which writes who did what and when in the same transaction as the change, so
the trail can never disagree with the data.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.desk import gdpr
from assistant.desk.audit import audit
from assistant.desk.outbox import greeting
from assistant.desk.tables import AuditEvent, Enquiry, Note, PartnerConsent, StaffUser, TriageExample, utcnow
from assistant.desk.taxonomy import Classifier, TaxonomyFile, due_at, priority_for
from assistant.engine import STAFF_VIEW, Assistant
from assistant.errors import Conflict, InvalidRequest, NotFound
from assistant.models import DOCUMENTS, PUBLIC

if TYPE_CHECKING:
    from assistant.desk.outbox import Outbox

DOCUMENTS_HEADING = "From the cluster's documents:"
STATUSES = ("new", "triaged", "in_progress", "waiting", "resolved")
TRANSITIONS = {
    "new": {"triaged", "in_progress", "resolved"},
    "triaged": {"in_progress", "waiting", "resolved"},
    "in_progress": {"waiting", "resolved", "triaged"},
    "waiting": {"in_progress", "resolved"},
    "resolved": {"in_progress"},  # reopened
}
# Domains of public mailboxes: a shared domain there says nothing about a shared organisation.
FREEMAIL = {"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com", "live.com"}


def _enquiry(session: Session, enquiry_id: int) -> Enquiry:
    """The enquiry with this id; raises `NotFound`."""
    enquiry = session.get(Enquiry, enquiry_id)
    if enquiry is None:
        raise NotFound(f"No enquiry {enquiry_id}.")
    return enquiry


@dataclass
class Triage:
    """The taxonomy, its classifier and the assistant that drafts replies."""

    taxonomy: TaxonomyFile
    classifier: Classifier
    assistant: Assistant

    @classmethod
    def load(cls, taxonomy: TaxonomyFile, assistant: Assistant, sessions: sessionmaker[Session]) -> "Triage":
        return cls(taxonomy, Classifier(taxonomy, assistant.embedder, corrections(sessions, taxonomy)), assistant)

    def forget_erased(self, sessions: sessionmaker[Session]) -> None:
        """Rebuild the classifier from the corrections still stored (after an erasure removed some)."""
        self.classifier = Classifier(self.taxonomy, self.assistant.embedder, corrections(sessions, self.taxonomy))

    def erase_subject(self, sessions: sessionmaker[Session], email: str, actor: str) -> int:
        """Erase everything about an address (see `gdpr.erase_subject`), the classifier's copies included."""
        erased = gdpr.erase_subject(sessions, email, actor)
        if erased:
            self.forget_erased(sessions)
        return erased

    def purge(self, sessions: sessionmaker[Session], actor: str = "system") -> int:
        """Apply the taxonomy's retention rules (see `gdpr.purge_resolved`), the classifier's copies included."""
        by_category = self.taxonomy.retention_by_category()
        erased = gdpr.purge_resolved(sessions, self.taxonomy.retention_days, by_category, actor)
        if erased:
            self.forget_erased(sessions)
        return erased

    def draft(self, name: str | None, message: str, category: str) -> tuple[str, list[dict[str, Any]]]:
        """A reply from the documents, cited sentence by sentence, with the route's next steps. Its document
        answer, when there is one, is the paragraph after `DOCUMENTS_HEADING`."""
        route = self.taxonomy.categories[category]
        lines = [greeting(name), "", "Thank you for your enquiry."]  # the rule the mail sent uses: a name, or Hello
        citations: list[dict[str, Any]] = []
        if category != "clinical-advice":
            answer = self.assistant.ask(message[:2000], None, STAFF_VIEW)
            # Small talk ("Thanks!") is no document answer; the "Showing results for" line is for the chat only.
            if not answer.abstained and answer.kind == DOCUMENTS:
                text = answer.text.split("\n\n", 1)[-1] if answer.corrections else answer.text
                lines += ["", DOCUMENTS_HEADING, text]
                citations = [c.to_record() for c in answer.citations]
                # Drafts may draw on staff-only documents: say so beside each (the level the citation carries, read
                # from its document), for staff to check before sending.
                lines += [""] + [
                    # A web address when the document has one; never where a file sits on the server: this is mailed.
                    f"[{c['n']}] {c['title']}, {c['section']}"
                    + (f" ({c['url']})" if c["url"] else "")
                    + (" [NOT PUBLIC: check before sending]" if c["visibility"] != PUBLIC else "")
                    for c in citations
                ]
        lines += ["", route.next_steps]
        if route.contact:
            lines.append(f"Contact: {route.contact}")
        lines += ["", "Kind regards,", "The West Midlands health tech network team"]
        return "\n".join(lines), citations

    def triage(
        self, sessions: sessionmaker[Session], enquiry_id: int, actor: str = "system", mail: "Outbox | None" = None,
        acknowledge: bool = True,
    ) -> Enquiry:  # fmt: skip
        """Classify, prioritise, route and draft one enquiry; status new → triaged. With `mail`, the enquirer's
        acknowledgement (unless `acknowledge` is False: a forged sender) and the route's notice are queued in the
        same transaction."""
        with sessions.begin() as session:
            enquiry = _enquiry(session, enquiry_id)
            text = f"{enquiry.subject or ''}\n{enquiry.message}".strip()
            found = self.classifier.classify(text)
            category = self.taxonomy.categories[found.category]
            priority, cues = priority_for(category, text)
            enquiry.category, enquiry.route, enquiry.priority = found.category, category.route, priority
            enquiry.confidence, enquiry.needs_review = round(found.confidence, 4), found.needs_review
            enquiry.reasons = {**found.reasons(), "urgency_cues": cues}
            enquiry.due_at = due_at(category, priority, enquiry.created_at)
            enquiry.draft, enquiry.draft_citations = self.draft(enquiry.name, enquiry.message, found.category)
            if enquiry.status == "new":
                enquiry.status = "triaged"
            audit(session, enquiry.id, actor, "triaged", category=found.category, priority=priority,
                  confidence=round(found.confidence, 3), needs_review=found.needs_review)  # fmt: skip
            if mail is not None:
                if acknowledge:
                    mail.acknowledge(session, enquiry)
                else:
                    audit(session, enquiry.id, "system", "acknowledgement_skipped", reason="sender not authenticated")
                mail.routed(session, enquiry)
            return enquiry

    def correct(self, sessions: sessionmaker[Session], enquiry_id: int, category: str, actor: str) -> None:
        """Staff set the category; the enquiry becomes an example the classifier learns from."""
        if category not in self.taxonomy.categories:
            raise InvalidRequest(f"Unknown category '{category}'.")
        with sessions.begin() as session:
            enquiry = _enquiry(session, enquiry_id)
            before = enquiry.category
            route = self.taxonomy.categories[category]
            enquiry.category, enquiry.route, enquiry.needs_review = category, route.route, False
            text = enquiry.message[:2000]
            session.add(TriageExample(category=category, text=text, created_by=actor, enquiry_id=enquiry_id))
            audit(session, enquiry_id, actor, "category_corrected", before=before, after=category)
        self.classifier.learn(category, text, correction_label(enquiry_id))


def correction_label(enquiry_id: int | None) -> str:
    return f"staff correction on enquiry {enquiry_id}" if enquiry_id else "staff correction"


def corrections(sessions: sessionmaker[Session], taxonomy: TaxonomyFile) -> list[tuple[str, str, str]]:
    """The stored staff corrections for the taxonomy's categories: (category, text, what evidence shows)."""
    with sessions() as session:
        rows = session.scalars(select(TriageExample).order_by(TriageExample.id)).all()
        return [(e.category, e.text, correction_label(e.enquiry_id)) for e in rows if e.category in taxonomy.categories]


def related(sessions: sessionmaker[Session], enquiry: Enquiry) -> list[Enquiry]:
    """Other enquiries from the same address, or from the same organisation's domain."""
    conditions = [Enquiry.email == enquiry.email]
    if enquiry.email_domain and enquiry.email_domain not in FREEMAIL:
        conditions.append(Enquiry.email_domain == enquiry.email_domain)
    with sessions() as session:
        return list(
            session.scalars(
                select(Enquiry).where(or_(*conditions), Enquiry.id != enquiry.id).order_by(Enquiry.created_at.desc())
            )
        )


def change_status(sessions: sessionmaker[Session], enquiry_id: int, status: str, actor: str) -> None:
    with sessions.begin() as session:
        enquiry = _enquiry(session, enquiry_id)
        if status not in TRANSITIONS.get(enquiry.status, set()):
            raise Conflict(f"An enquiry that is '{enquiry.status}' cannot become '{status}'.")
        before, enquiry.status = enquiry.status, status
        enquiry.resolved_at = utcnow() if status == "resolved" else None
        audit(session, enquiry_id, actor, "reopened" if before == "resolved" else "status", before=before, after=status)


def assign(
    sessions: sessionmaker[Session], enquiry_id: int, assignee: str | None, actor: str, mail: "Outbox | None" = None
) -> None:
    """Give the enquiry to an active staff account (None or "": to no one); raises `InvalidRequest` for any other
    address: the assignee is mailed a notice, so a typo or an outside address must never be saved."""
    assignee = (assignee or "").strip().lower() or None
    with sessions.begin() as session:
        account = select(StaffUser.id).where(func.lower(StaffUser.email) == assignee, StaffUser.disabled.is_(False))
        if assignee and session.scalar(account) is None:
            raise InvalidRequest(f"{assignee} is not an active staff account.")
        enquiry = _enquiry(session, enquiry_id)
        before, enquiry.assignee = enquiry.assignee, assignee
        audit(session, enquiry_id, actor, "assigned", before=before, after=enquiry.assignee)
        if mail is not None and enquiry.assignee and enquiry.assignee != before:
            mail.assigned(session, enquiry, enquiry.assignee, actor)


def add_note(sessions: sessionmaker[Session], enquiry_id: int, text: str, actor: str) -> None:
    if not text.strip():
        raise InvalidRequest("A note needs some text.")
    with sessions.begin() as session:
        _enquiry(session, enquiry_id)
        session.add(Note(enquiry_id=enquiry_id, author=actor, text=text.strip(), created_at=utcnow()))
        audit(session, enquiry_id, actor, "note_added")


def approve_reply(
    sessions: sessionmaker[Session], enquiry_id: int, text: str, actor: str, mail: "Outbox | None" = None
) -> None:
    """Staff send the (edited) reply: stored beside the draft, it counts as the first response, and with `mail` it
    is queued to the enquirer in the same transaction."""
    if not text.strip():
        raise InvalidRequest("The reply is empty.")
    with sessions.begin() as session:
        enquiry = _enquiry(session, enquiry_id)
        now = utcnow()
        edited = text.strip() != (enquiry.draft or "").strip()
        enquiry.reply, enquiry.approved_by, enquiry.approved_at = text.strip(), actor, now
        enquiry.first_response_at = enquiry.first_response_at or now
        if enquiry.status in ("new", "triaged"):
            enquiry.status = "in_progress"
        audit(session, enquiry_id, actor, "reply_approved", edited=edited)
        if mail is not None:
            mail.reply(session, enquiry, text.strip(), actor)


def record_partner_consent(
    sessions: sessionmaker[Session], enquiry_id: int, partner: str, how: str, actor: str
) -> None:
    """Record that the enquirer agreed to their details going to `partner` (needed before sharing them)."""
    if not partner.strip() or not how.strip():
        raise InvalidRequest("Say which partner, and how the enquirer gave consent.")
    with sessions.begin() as session:
        _enquiry(session, enquiry_id)
        session.add(PartnerConsent(enquiry_id=enquiry_id, partner=partner.strip(), how=how.strip(), recorded_by=actor))
        audit(session, enquiry_id, actor, "partner_consent", partner=partner.strip())


def share_with_partner(
    sessions: sessionmaker[Session], enquiry_id: int, partner: str, actor: str, mail: "Outbox | None" = None
) -> dict[str, Any]:
    """The enquirer's details for `partner`; refused unless their consent for that partner is recorded. With
    `mail`, the partner's contact (if it has one) is sent them."""
    with sessions.begin() as session:
        enquiry = _enquiry(session, enquiry_id)
        consented = session.scalar(
            select(func.count()).where(PartnerConsent.enquiry_id == enquiry_id, PartnerConsent.partner == partner)
        )
        if not consented:
            raise Conflict(f"No consent recorded to share this enquirer's details with {partner}.")
        audit(session, enquiry_id, actor, "shared_with_partner", partner=partner)
        if mail is not None:
            mail.shared(session, enquiry, partner, actor)
        return {"name": enquiry.name, "email": enquiry.email, "organisation": enquiry.organisation,
                "message": enquiry.message}  # fmt: skip


def audit_trail(sessions: sessionmaker[Session], enquiry_id: int) -> list[AuditEvent]:
    with sessions() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.enquiry_id == enquiry_id).order_by(AuditEvent.id))
        )
