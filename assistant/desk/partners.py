"""Partner organisations that embed the widget: who may, from which sites, and what their visitors may see.

Read from a YAML file (`CLUSTER_ASSISTANT_PARTNERS_FILE`; example: `partners.example.yaml`). Deny by default: a
partner that is not in the file, or an origin not in its list, gets no widget. The file is re-read when it
changes, so edits apply without a restart.
"""

import logging
import re
import threading
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from assistant.engine import Visible, visibility_filter
from assistant.errors import AssistantError
from assistant.models import PUBLIC

log = logging.getLogger(__name__)
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
MIN_CONTRAST = 4.5  # WCAG 2.2 AA for normal text


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


class Limits(BaseModel):
    per_ip_per_minute: int = Field(30, ge=1)
    per_session_per_minute: int = Field(12, ge=1)


class Partner(BaseModel):
    """One partner's widget settings."""

    name: str
    allowed_origins: list[str] = Field(default_factory=list)
    greeting: str = "Hello! Ask me about the West Midlands health tech network."
    starter_questions: list[str] = Field(default_factory=list, max_length=4)
    accent: str = "#1d4ed8"  # launcher and buttons
    accent_text: str = "#ffffff"
    position: Literal["bottom-right", "bottom-left"] = "bottom-right"
    visibility: list[str] = Field(default_factory=lambda: [PUBLIC])  # public only: kept so old files still read
    tags: list[str] = Field(default_factory=list)  # when set, only public documents carrying one of these tags
    limits: Limits = Field(default_factory=Limits)
    max_message_chars: int = Field(500, ge=20, le=2000)
    contact_email: str | None = None  # told of an enquiry shared with this partner (with the enquirer's consent)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if not re.fullmatch(r"https?://[^/\s]+", origin):
                raise ValueError(f"'{origin}' is not an origin (scheme://host[:port], no path)")
        return origins

    @model_validator(mode="after")
    def _colours(self) -> "Partner":
        for colour in (self.accent, self.accent_text):
            if not _HEX.match(colour):
                raise ValueError(f"colour '{colour}' is not #rrggbb")
        if contrast(self.accent, self.accent_text) < MIN_CONTRAST:
            raise ValueError(
                f"accent {self.accent} and accent_text {self.accent_text} have contrast "
                f"{contrast(self.accent, self.accent_text):.2f}:1; WCAG AA needs {MIN_CONTRAST}:1"
            )
        if set(self.visibility) != {PUBLIC}:
            raise ValueError(
                "a widget answers from public documents only: remove `visibility` (narrow with `tags` instead)"
            )
        return self

    def allows(self, origin: str | None) -> bool:
        return bool(origin) and origin in self.allowed_origins

    def can_see(self) -> Visible:
        """Which chunks this partner's visitors may be answered from: public ones, narrowed by its tags."""
        return visibility_filter(frozenset({PUBLIC}), frozenset(self.tags))


class PartnersFileError(AssistantError):
    """The partners file cannot be read or is not valid."""


def read_partners(path: Path) -> dict[str, Partner]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise PartnersFileError(f"Cannot read the partners file {path}: {exc}") from None
    entries = raw.get("partners", {}) if isinstance(raw, dict) else None
    if not isinstance(entries, dict):
        raise PartnersFileError(f"{path}: expected a mapping `partners: {{id: {{...}}}}`")
    partners = {}
    for partner_id, entry in entries.items():
        try:
            partners[str(partner_id)] = Partner.model_validate(entry or {})
        except ValidationError as exc:
            raise PartnersFileError(f"{path}: partner '{partner_id}': {exc.errors()[0]['msg']}") from None
    return partners


class PartnerDirectory:
    """The partners, re-read when the file's modification time changes; a broken edit keeps the last good list."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._partners: dict[str, Partner] = {}
        self._stamp: float | None = None
        self._lock = threading.Lock()
        if path is not None:
            self._partners = read_partners(path)  # a broken file at start is an error, not an empty list
            self._stamp = path.stat().st_mtime

    def get(self, partner_id: str) -> Partner | None:
        self._refresh()
        return self._partners.get(partner_id)

    def named(self, name: str) -> Partner | None:
        """The partner with this id or name (a consent records the name staff typed), case aside."""
        self._refresh()
        wanted = name.strip().lower()
        return next((p for k, p in self._partners.items() if wanted in (k.lower(), p.name.lower())), None)

    def origins(self) -> set[str]:
        self._refresh()
        return {o for p in self._partners.values() for o in p.allowed_origins}

    def _refresh(self) -> None:
        if self.path is None:
            return
        try:
            stamp = self.path.stat().st_mtime
        except OSError:
            return
        if stamp == self._stamp:
            return
        with self._lock:
            try:
                self._partners = read_partners(self.path)
                log.info("partners file reloaded: %d partners", len(self._partners))
            except PartnersFileError as exc:
                log.error("%s; keeping the previous partners", exc)
            self._stamp = stamp
