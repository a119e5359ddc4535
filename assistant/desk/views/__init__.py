"""What the screens and the staff API read: frozen dataclasses, built by the desk's services from the tables and
never holding a row. Times are aware datetimes (UTC); the staff API declares these as its response models, so its
JSON is their fields."""

from assistant.desk.views.documents import (
    ChunkView,
    DocumentRow,
    JobProgress,
    PublicDocument,
    ReadSection,
    SiteRow,
    Tried,
    WrittenAnswer,
)
from assistant.desk.views.enquiries import (
    Attachment,
    AuditEntry,
    ChatTurn,
    Consent,
    Delivery,
    EnquiryDetail,
    InboxPage,
    InboxRow,
    MailIn,
    MailOut,
    Message,
    Note,
    NoteEntry,
    PartnerShare,
    ReplyEntry,
    SubjectExport,
    TimelineEntry,
)
from assistant.desk.views.mail import (
    MailHealth,
    MailRow,
)
from assistant.desk.views.reports import (
    Figures,
    Gap,
    PartnerDay,
    Weekly,
)

__all__ = [
    "Attachment",
    "AuditEntry",
    "ChatTurn",
    "ChunkView",
    "Consent",
    "Delivery",
    "DocumentRow",
    "EnquiryDetail",
    "Figures",
    "Gap",
    "InboxPage",
    "InboxRow",
    "JobProgress",
    "MailHealth",
    "MailIn",
    "MailOut",
    "MailRow",
    "Message",
    "Note",
    "NoteEntry",
    "PartnerDay",
    "PartnerShare",
    "PublicDocument",
    "ReadSection",
    "ReplyEntry",
    "SiteRow",
    "SubjectExport",
    "TimelineEntry",
    "Tried",
    "Weekly",
    "WrittenAnswer",
]
