"""The enquiry desk: questions logged, enquiries received, triaged, answered and kept as records; mail; the
documents staff manage; staff accounts; reports.

It uses the engine only through `assistant.engine`'s public names. Every UI calls `Desk` (desk.py) and its
services, reads the views in `views.py` and the vocabularies in `vocabulary.py`; none of them touches a table.
"""

from assistant.desk.accounts import Accounts, SignInRefused, StaffMember
from assistant.desk.db import open_database
from assistant.desk.desk import Desk
from assistant.desk.enquiries import Enquiries
from assistant.desk.gdpr import write_private
from assistant.desk.inbox import EnquiryUpdate, Filters
from assistant.desk.ingesting import removed_sources
from assistant.desk.partners import Partner, PartnerDirectory
from assistant.desk.privacy import Privacy
from assistant.desk.records import CONSENT_TEXT, CONSENT_VERSION, NewEnquiry, NewFeedback, Receipt
from assistant.desk.taxonomy import load_taxonomy
from assistant.desk.vocabulary import (
    AuditAction,
    Channel,
    DocumentOrigin,
    DocumentStatus,
    EnquiryStatus,
    JobKind,
    JobStatus,
    MailKind,
    MailStatus,
    Priority,
    Rating,
    Role,
    Visibility,
)

__all__ = [
    "CONSENT_TEXT",
    "CONSENT_VERSION",
    "Accounts",
    "AuditAction",
    "Channel",
    "Desk",
    "DocumentOrigin",
    "DocumentStatus",
    "Enquiries",
    "EnquiryStatus",
    "EnquiryUpdate",
    "Filters",
    "JobKind",
    "JobStatus",
    "MailKind",
    "MailStatus",
    "NewEnquiry",
    "NewFeedback",
    "Partner",
    "PartnerDirectory",
    "Priority",
    "Privacy",
    "Rating",
    "Receipt",
    "Role",
    "SignInRefused",
    "StaffMember",
    "Visibility",
    "load_taxonomy",
    "open_database",
    "removed_sources",
    "write_private",
]
