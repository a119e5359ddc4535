"""The small error vocabulary. Each message says what the user can do about it.

The edges translate these once: the CLI into a message and an exit code, HTTP into a status and JSON,
Gradio into a visible message. Any other exception is a bug and keeps its traceback.
"""


class AssistantError(Exception):
    """Something the user can act on. `exit_code` is what the CLI returns."""

    exit_code = 1


class InvalidRequest(AssistantError):
    """Input the user sent is unusable: HTTP answers 422, the CLI exits 2."""

    exit_code = 2


class InvalidQuestion(InvalidRequest):
    """The question is empty, too long, or otherwise unusable."""


class IndexMissing(AssistantError):
    """There is no index yet at the configured data directory."""


class EmbeddingModelMismatch(AssistantError):
    """The index was built with a different embedding model than the one configured."""


class StoreUnavailable(AssistantError):
    """The vector store or the database cannot be reached."""


class LoadError(AssistantError):
    """One document could not be read; ingest reports it and goes on with the rest."""


class UnsafeConfiguration(AssistantError):
    """A setting would expose something that must stay private; an explicit opt-in is needed."""

    exit_code = 2
