"""Front matter: the YAML block between `---` lines that opens a Markdown document (title, date, visibility, tags,
a written answer's questions), read safely and kept as strings."""

import yaml

from assistant.errors import LoadError
from assistant.models import VISIBILITY_LEVELS

MAX_FRONT_MATTER_CHARS = 16_384
LIST_SEPARATORS = {"questions": "\n"}  # lists whose items may hold commas: one a line


class _NoAliasLoader(yaml.SafeLoader):
    """Safe YAML without anchors and aliases: front matter never needs them, and expanding them is how 340 bytes
    become 53 MB (the "billion laughs")."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            raise LoadError("front matter uses a YAML alias (*name); write the value out instead")
        return super().compose_node(parent, index)  # type: ignore[arg-type]


def check_visibility(value: object) -> str:
    """The one visibility level a document declares; raises `LoadError` for a list or an unknown level."""
    level = value.strip().lower() if isinstance(value, str) else None
    if level not in VISIBILITY_LEVELS:
        raise LoadError(f"visibility {value!r} is not one of {', '.join(VISIBILITY_LEVELS)} (give exactly one level)")
    return level


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """YAML front matter between `---` lines, as strings, and the body after it."""
    if not text.startswith("---"):
        return {}, text
    parts = text.split("\n", 1)
    end = parts[1].find("\n---") if len(parts) > 1 else -1
    if end < 0:
        return {}, text
    raw, body = parts[1][:end], parts[1][end + 4 :]
    if len(raw) > MAX_FRONT_MATTER_CHARS:
        raise LoadError(f"front matter is over {MAX_FRONT_MATTER_CHARS:,} characters")
    try:
        loaded = yaml.load(raw, Loader=_NoAliasLoader) or {}
    except yaml.YAMLError as exc:
        raise LoadError(f"front matter is not valid YAML: {exc}") from None
    if not isinstance(loaded, dict):
        raise LoadError("front matter must be a YAML mapping")
    if "visibility" in loaded:
        loaded["visibility"] = check_visibility(loaded["visibility"])
    # A list is kept as one string: questions (which hold commas) one a line, anything else comma-separated.
    meta = {
        str(k): (LIST_SEPARATORS.get(str(k), ", ").join(map(str, v)) if isinstance(v, list) else str(v))
        for k, v in loaded.items()
    }
    return meta, body.lstrip("\n")
