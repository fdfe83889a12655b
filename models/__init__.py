"""SQLAlchemy 2 typed models, the engine and session, and Alembic migrations."""
from models.base import Base
from models.registry import Contact, Pupil, School, Trust
from models.collections import CollectionRow, WindowRow
from models.uploads import PupilResult, Submission, Upload, UploadStatus
from models.outbox import OutgoingEmail
from models.audit import AuditChain, AuditEvent
from models.inbound import InboundMessage, MailboxState
from models.partners import Partner, PartnerSchool
from models.reports import Reminder, Report
from models.operations import FailedJob, Purge

__all__ = [
    "Base", "Contact", "Pupil", "School", "Trust", "CollectionRow", "WindowRow", "PupilResult",
    "Submission", "Upload", "UploadStatus", "OutgoingEmail", "AuditEvent", "AuditChain",
    "InboundMessage", "MailboxState", "Partner", "PartnerSchool", "Reminder", "Report",
    "FailedJob", "Purge",
]
