"""Cluster Assistant: answers questions from the cluster's documents, grounded and cited.

The public face: `Settings`, `Assistant`, `Answer`, `AssistantError` (and `Desk`, the enquiry desk every UI
calls). They are imported on first use, so `import assistant.config` stays light.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.desk import Desk
    from assistant.engine import Assistant
    from assistant.errors import AssistantError
    from assistant.models import Answer

_WHERE = {
    "Settings": "assistant.config",
    "Assistant": "assistant.engine",
    "Answer": "assistant.models",
    "AssistantError": "assistant.errors",
    "Desk": "assistant.desk",
}
__all__ = ["Answer", "Assistant", "AssistantError", "Desk", "Settings"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'assistant' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_WHERE[name]), name)
