"""Personal data (`desk.privacy`): every enquiry as CSV, everything held about one address, erasure, and the
taxonomy's retention. It needs no engine, so the CLI runs it on a server without an index; a classifier that
learned from erased enquiries forgets them (`erased`, and in other workers through the stored corrections)."""

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from assistant.desk import gdpr
from assistant.desk.accounts import StaffMember, admin_actor
from assistant.desk.taxonomy import TaxonomyFile
from assistant.desk.views import SubjectExport


class Privacy:
    def __init__(
        self, sessions: sessionmaker[Session], taxonomy: TaxonomyFile, erased: Callable[[], None] = lambda: None
    ) -> None:
        self.sessions, self.taxonomy, self._erased = sessions, taxonomy, erased

    def export_csv(self, member: StaffMember | None) -> str:
        """Every enquiry as CSV (admins only; `None` is the operator at the shell); audited."""
        return gdpr.enquiries_csv(self.sessions, admin_actor(member, "export every enquiry"))

    def export_subject(self, email: str, member: StaffMember | None) -> SubjectExport:
        """Everything held about an address (admins only); audited."""
        return gdpr.export_subject(self.sessions, email, admin_actor(member, "export personal data"))

    def erase_subject(self, email: str, member: StaffMember | None) -> int:
        """Erase everything about an address, the classifier's copies included (admins only; `None` is the
        operator at the shell); returns how many enquiries."""
        erased = gdpr.erase_subject(self.sessions, email, admin_actor(member, "erase personal data"))
        if erased:
            self._erased()
        return erased

    def purge(self, actor: str = "system") -> int:
        """Apply the taxonomy's retention rules; returns how many resolved enquiries were erased."""
        by_category = self.taxonomy.retention_by_category()
        erased = gdpr.purge_resolved(self.sessions, self.taxonomy.retention_days, by_category, actor)
        if erased:
            self._erased()
        return erased
