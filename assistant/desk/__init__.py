"""The enquiry desk: questions logged, enquiries received, triaged, answered and kept as records; staff accounts.

It uses the engine only through `assistant.engine`'s public names. Every UI calls `Desk` (desk.py) and the
plain values exported here; none of them touches a table.
"""

from assistant.desk.accounts import SignInRefused, StaffMember
from assistant.desk.db import open_database
from assistant.desk.desk import Desk
from assistant.desk.gdpr import write_private
from assistant.desk.inbox import EnquiryUpdate, Filters
from assistant.desk.intake import read_csv, read_mail
from assistant.desk.library import removed_sources
from assistant.desk.partners import Partner, PartnerDirectory
from assistant.desk.ratelimit import RateLimits
from assistant.desk.records import CONSENT_TEXT, CONSENT_VERSION, NewEnquiry, NewFeedback, Receipt
from assistant.desk.tokens import TokenSigner, WidgetSession, load_secret
from assistant.desk.triage import STATUSES

__all__ = [
    "CONSENT_TEXT",
    "CONSENT_VERSION",
    "STATUSES",
    "Desk",
    "EnquiryUpdate",
    "Filters",
    "NewEnquiry",
    "NewFeedback",
    "Partner",
    "PartnerDirectory",
    "RateLimits",
    "Receipt",
    "SignInRefused",
    "StaffMember",
    "TokenSigner",
    "WidgetSession",
    "load_secret",
    "open_database",
    "read_csv",
    "read_mail",
    "removed_sources",
    "write_private",
]
