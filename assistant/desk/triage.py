"""Staff triage: classify, prioritise and route enquiries, draft a cited reply, and move them through the workflow.

Every change goes through `audit`, which writes who did what and when in the same transaction as the change, so
the trail can never disagree with the data.
"""

import threading
import time
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.desk.audit import audit
from assistant.desk.drafting import Draft, write_draft
from assistant.desk.mail.body import read_body
from assistant.desk.tables import Enquiry, Note, PartnerConsent, StaffUser, TriageExample, utcnow
from assistant.desk.taxonomy import Classification, Classifier, TaxonomyFile, due_at, priority_for
from assistant.desk.views import PartnerShare
from assistant.desk.vocabulary import AuditAction, Channel, EnquiryStatus, Priority
from assistant.engine import Assistant
from assistant.errors import Conflict, InvalidRequest, NotFound

if TYPE_CHECKING:
    from assistant.desk.mail.outbox import Outbox

REFRESH_S = 2.0  # how stale a worker's classifier may be: another worker's correction is used within this


def _enquiry(session: Session, enquiry_id: int) -> Enquiry:
    """The enquiry with this id; raises `NotFound`."""
    enquiry = session.get(Enquiry, enquiry_id)
    if enquiry is None:
        raise NotFound(f"No enquiry {enquiry_id}.")
    return enquiry


class Triage:
    """The taxonomy, its classifier and the assistant that drafts replies.

    The classifier learns from staff corrections stored in the database, so every worker shares them: before it
    classifies, a worker looks (at most every `REFRESH_S`) whether the stored corrections changed, and learns the
    new ones, or is built again when some went (an erasure, retention) or when it cannot tell.
    """

    def __init__(self, taxonomy: TaxonomyFile, assistant: Assistant, sessions: sessionmaker[Session]) -> None:
        self.taxonomy, self.assistant, self.sessions = taxonomy, assistant, sessions
        self._classifier: Classifier | None = None
        self._stamp: tuple[int, int] = (0, 0)  # (corrections stored, the newest one's id) it was taught
        self._checked = 0.0
        self._lock = threading.Lock()

    @property
    def classifier(self) -> Classifier:
        """The classifier, taught every stored correction (as of `REFRESH_S` ago at most)."""
        with self._lock:
            if self._classifier is None or time.monotonic() - self._checked >= REFRESH_S:
                self._refresh()
            assert self._classifier is not None
            return self._classifier

    def _refresh(self) -> None:
        (count, newest), (had, had_newest) = self._stored(None), self._stamp
        with self.sessions() as session:
            if self._classifier is not None and (count, newest) != (had, had_newest) and newest >= had_newest:
                added = self._stored(had_newest)[0]
                if had + added == count:  # only new ones since: learn those
                    for category, text, shown in corrections(session, self.taxonomy, had_newest, newest):
                        self._classifier.learn(category, text, shown)
                    self._stamp, self._checked = (count, newest), time.monotonic()
                    return
            if self._classifier is None or (count, newest) != (had, had_newest):  # some went: learn them all again
                examples = corrections(session, self.taxonomy, 0, newest)
                self._classifier = Classifier(self.taxonomy, self.assistant.embedder, examples)
        self._stamp, self._checked = (count, newest), time.monotonic()

    def _stored(self, after: int | None) -> tuple[int, int]:
        """(how many corrections are stored after id `after`, or at all; the newest one's id)."""
        query = select(func.count(), func.max(TriageExample.id))
        if after is not None:
            query = query.where(TriageExample.id > after)
        with self.sessions() as session:
            count, newest = session.execute(query).one()
        return int(count), int(newest or 0)

    def forget_erased(self) -> None:
        """Rebuild the classifier from the corrections still stored (after an erasure removed some), now."""
        with self._lock:
            self._classifier = None

    def draft(self, name: str | None, body: str, found: Classification) -> Draft:
        """The reply draft (see `drafting.write_draft`), routed as the classifier found."""
        route = self.taxonomy.categories[found.category]
        return write_draft(self.assistant, name, body, route, sure=not found.needs_review)

    def _filed_under(self, found: Classification, draft: Draft) -> str:
        """The category an enquiry is filed under: the taxonomy's clinical one when the guard signposted it (and it
        has one), its fallback when it is not an enquiry, else the classifier's."""
        if draft.signposted:
            return self.taxonomy.clinical or found.category
        return self.taxonomy.fallback if draft.not_an_enquiry else found.category

    def triage(
        self, enquiry_id: int, actor: str = "system", mail: "Outbox | None" = None, acknowledge: bool = True
    ) -> Enquiry:
        """Classify, prioritise, route and draft one enquiry; status new → triaged. With `mail`, the enquirer's
        acknowledgement (unless `acknowledge` is False: a forged sender) and the route's notice are queued in the
        same transaction."""
        classifier = self.classifier
        with self.sessions.begin() as session:
            enquiry = _enquiry(session, enquiry_id)
            body = read_body(enquiry.message).text if enquiry.channel == Channel.EMAIL else enquiry.message
            text = f"{enquiry.subject or ''}\n{body}".strip()
            found = classifier.classify(text)
            draft = self.draft(enquiry.name, body, found)
            filed = self._filed_under(found, draft)
            category = self.taxonomy.categories[filed]
            priority, cues = priority_for(category, text)
            # Medical advice asked for: the highest priority, and a person checks the draft before it goes.
            priority = Priority.URGENT.value if draft.signposted else priority
            review = found.needs_review or draft.signposted or draft.not_an_enquiry is not None
            enquiry.category, enquiry.route, enquiry.priority = filed, category.route, priority
            enquiry.confidence, enquiry.needs_review = round(found.confidence, 4), review
            flags: dict[str, object] = {"clinical": True} if draft.signposted else {}
            flags |= {"not_an_enquiry": draft.not_an_enquiry} if draft.not_an_enquiry else {}
            enquiry.reasons = {**found.reasons(), "urgency_cues": cues, **flags}
            enquiry.due_at = due_at(category, priority, enquiry.created_at)
            enquiry.draft, enquiry.draft_citations = draft.text, draft.citations
            if enquiry.status == EnquiryStatus.NEW:
                enquiry.status = EnquiryStatus.TRIAGED
            audit(
                session,
                enquiry.id,
                actor,
                AuditAction.TRIAGED,
                category=filed,
                priority=priority,
                confidence=round(found.confidence, 3),
                needs_review=review,
            )
            if mail is not None:
                if acknowledge:
                    mail.acknowledge(session, enquiry)
                else:
                    audit(
                        session,
                        enquiry.id,
                        "system",
                        AuditAction.ACKNOWLEDGEMENT_SKIPPED,
                        reason="sender not authenticated",
                    )
                mail.routed(session, enquiry)
            return enquiry

    def reply_within(self, text: str) -> int:
        """Hours until an enquiry with this text would be due, by the rule triage applies once it is sent (its
        likely category's SLA, halved when urgency cues raise it to urgent): what a form says before sending."""
        category = self.taxonomy.categories[self.classifier.classify(text).category]
        now = utcnow()
        due = due_at(category, priority_for(category, text)[0], now)
        return max(1, round((due - now).total_seconds() / 3600))

    def correct(self, enquiry_id: int, category: str, actor: str) -> None:
        """Staff set the category; the enquiry becomes an example the classifier learns from."""
        if category not in self.taxonomy.categories:
            raise InvalidRequest(f"Unknown category '{category}'.")
        with self.sessions.begin() as session:
            enquiry = _enquiry(session, enquiry_id)
            before = enquiry.category
            route = self.taxonomy.categories[category]
            enquiry.category, enquiry.route, enquiry.needs_review = category, route.route, False
            # The classifier's confidence was in its own choice: a person's choice is shown as theirs.
            enquiry.confidence, enquiry.reasons = None, {**(enquiry.reasons or {}), "corrected_by": actor}
            text = enquiry.message[:2000]
            session.add(TriageExample(category=category, text=text, created_by=actor, enquiry_id=enquiry_id))
            audit(session, enquiry_id, actor, AuditAction.CATEGORY_CORRECTED, before=before, after=category)
        with self._lock:  # looked at again at once: this worker uses it now, the others within `REFRESH_S`
            self._checked = 0.0


def correction_label(enquiry_id: int | None) -> str:
    return f"staff correction on enquiry {enquiry_id}" if enquiry_id else "staff correction"


def corrections(session: Session, taxonomy: TaxonomyFile, after: int, upto: int) -> list[tuple[str, str, str]]:
    """The stored staff corrections with ids in (after, upto] for the taxonomy's categories: (category, text, what
    evidence shows)."""
    ids = TriageExample.id > after, TriageExample.id <= upto
    rows = session.scalars(select(TriageExample).where(*ids).order_by(TriageExample.id))
    return [(e.category, e.text, correction_label(e.enquiry_id)) for e in rows if e.category in taxonomy.categories]


def change_status(sessions: sessionmaker[Session], enquiry_id: int, status: str, actor: str) -> bool:
    """Move the enquiry along the workflow; False when it already had that status ("Move" on the current status,
    "Send and wait" while waiting): nothing changes then."""
    with sessions.begin() as session:
        enquiry = _enquiry(session, enquiry_id)
        if status == enquiry.status:
            return False
        if status not in EnquiryStatus(enquiry.status).next:
            raise Conflict(f"An enquiry that is '{enquiry.status}' cannot become '{status}'.")
        before, enquiry.status = enquiry.status, status
        enquiry.resolved_at = utcnow() if status == EnquiryStatus.RESOLVED else None
        action = AuditAction.REOPENED if before == EnquiryStatus.RESOLVED else AuditAction.STATUS_CHANGED
        audit(session, enquiry_id, actor, action, before=before, after=status)
        return True


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
        audit(session, enquiry_id, actor, AuditAction.ASSIGNED, before=before, after=enquiry.assignee)
        if mail is not None and enquiry.assignee and enquiry.assignee != before:
            mail.assigned(session, enquiry, enquiry.assignee, actor)


def add_note(sessions: sessionmaker[Session], enquiry_id: int, text: str, actor: str) -> None:
    if not text.strip():
        raise InvalidRequest("A note needs some text.")
    with sessions.begin() as session:
        _enquiry(session, enquiry_id)
        session.add(Note(enquiry_id=enquiry_id, author=actor, text=text.strip(), created_at=utcnow()))
        audit(session, enquiry_id, actor, AuditAction.NOTE_ADDED)


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
        if enquiry.status in (EnquiryStatus.NEW, EnquiryStatus.TRIAGED):
            enquiry.status = EnquiryStatus.IN_PROGRESS
        audit(session, enquiry_id, actor, AuditAction.REPLY_APPROVED, edited=edited)
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
        audit(session, enquiry_id, actor, AuditAction.PARTNER_CONSENT, partner=partner.strip())


def share_with_partner(
    sessions: sessionmaker[Session], enquiry_id: int, partner: str, actor: str, mail: "Outbox | None" = None
) -> PartnerShare:
    """The enquirer's details for `partner`; refused unless their consent for that partner is recorded. With
    `mail`, the partner's contact (if it has one) is sent them."""
    with sessions.begin() as session:
        enquiry = _enquiry(session, enquiry_id)
        consented = session.scalar(
            select(func.count()).where(PartnerConsent.enquiry_id == enquiry_id, PartnerConsent.partner == partner)
        )
        if not consented:
            raise Conflict(f"No consent recorded to share this enquirer's details with {partner}.")
        audit(session, enquiry_id, actor, AuditAction.SHARED_WITH_PARTNER, partner=partner)
        if mail is not None:
            mail.shared(session, enquiry, partner, actor)
        return PartnerShare(enquiry.name, enquiry.email, enquiry.organisation, enquiry.message)
