"""The small error vocabulary. Each message says what the user can do about it.

Each class carries its CLI exit code and HTTP status; the edges translate once, with one handler each: the CLI
into a message and the exit code, HTTP into the status and `{"detail": message}`, Gradio into a visible message.
Any other exception is a bug and keeps its traceback.
"""


class AssistantError(Exception):
    """Something the user can act on: the CLI exits `exit_code`, HTTP answers `http_status`."""

    exit_code = 1
    http_status = 503


class InvalidRequest(AssistantError):
    """Input the user sent is unusable: HTTP answers 422, the CLI exits 2."""

    exit_code = 2
    http_status = 422


class InvalidQuestion(InvalidRequest):
    """The question is empty, too long, or otherwise unusable."""


class NotFound(AssistantError):
    """The thing asked for does not exist (an enquiry id, say): HTTP 404."""

    exit_code = 2
    http_status = 404


class Conflict(AssistantError):
    """The request clashes with the current state (sharing without recorded consent, a closed transition): 409."""

    exit_code = 2
    http_status = 409


class NotAllowed(AssistantError):
    """Signed in, but this needs another role (an admin, say): HTTP 403."""

    exit_code = 2
    http_status = 403


class IndexMissing(AssistantError):
    """There is no index yet at the configured data directory."""


class EmbeddingModelMismatch(AssistantError):
    """The index was built with a different embedding model than the one configured."""


class StoreUnavailable(AssistantError):
    """The vector store or the database cannot be reached."""


class LoadError(AssistantError):
    """One document could not be read; ingest reports it and goes on with the rest."""

    http_status = 422


class UnsafeConfiguration(AssistantError):
    """A setting would expose something that must stay private; an explicit opt-in is needed."""

    exit_code = 2
    http_status = 500


class ModelUnavailable(AssistantError):
    """A model file shipped in the package is missing or unreadable: reinstall, or rebuild it."""
