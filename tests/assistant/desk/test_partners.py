"""Partner configuration (deny by default, WCAG contrast, reload), visibility filters, tokens and rate limits."""

import os
import time
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.desk.partners import PartnerDirectory, PartnersFileError, read_partners
from assistant.engine import PUBLIC_ONLY, visibility_filter
from assistant.models import Chunk
from tests.helpers import REPO
from ui.ratelimit import RateLimits
from ui.tokens import TokenSigner

GOOD = "partners:\n  p:\n    name: P\n    allowed_origins: ['https://p.example']\n"


def chunk(**metadata: str) -> Chunk:
    return Chunk("c", "t", ("t",), "T", "", "s", None, None, "h", 0, metadata)


def test_example_file_in_the_repo_is_valid() -> None:
    partner = read_partners(REPO / "partners.example.yaml")["example-trust"]
    assert partner.allows("https://www.example-trust.nhs.uk") and not partner.allows("https://evil.example")
    assert not partner.allows(None)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("    accent: '#ffff00'\n", "contrast"),
        ("    visibility: [public, internal]\n", "public documents only"),
        ("    visibility: [members]\n", "public documents only"),
        ("    accent: red\n", "#rrggbb"),
    ],
)
def test_invalid_partner_settings_are_refused_with_the_reason(tmp_path: Path, extra: str, message: str) -> None:
    path = tmp_path / "partners.yaml"
    path.write_text(GOOD + extra)
    with pytest.raises(PartnersFileError, match=message):
        read_partners(path)


def test_origins_must_be_bare_origins(tmp_path: Path) -> None:
    path = tmp_path / "partners.yaml"
    path.write_text(GOOD.replace("https://p.example", "https://p.example/page"))
    with pytest.raises(PartnersFileError, match="not an origin"):
        read_partners(path)


def test_edits_apply_without_restart_and_a_broken_edit_keeps_the_last_good(tmp_path: Path) -> None:
    path = tmp_path / "partners.yaml"
    path.write_text(GOOD)
    directory = PartnerDirectory(path)
    assert directory.get("p") is not None and directory.get("q") is None
    path.write_text(GOOD + "  q:\n    name: Q\n")
    os.utime(path, (time.time() + 5, time.time() + 5))
    assert directory.get("q") is not None
    path.write_text("partners: [not, a, mapping]")
    os.utime(path, (time.time() + 10, time.time() + 10))
    assert directory.get("p") is not None  # broken edit: the last good list stays
    assert PartnerDirectory(None).get("p") is None  # no file: nobody may embed


def test_visibility_filters_are_allow_lists() -> None:
    assert PUBLIC_ONLY(chunk()) and PUBLIC_ONLY(chunk(visibility="public"))
    for level in ("members", "internal", "Internal", "internal, staff", "confidential", "staff", "typo", ""):
        assert not PUBLIC_ONLY(chunk(visibility=level)), level
    public_only = visibility_filter(frozenset({"public"}))
    assert public_only(chunk(visibility="public")) and not public_only(chunk(visibility="members"))
    tagged = visibility_filter(frozenset({"public"}), frozenset({"data"}))
    assert tagged(chunk(tags="data, pioneer")) and not tagged(chunk(tags="events"))
    assert visibility_filter(frozenset({"public"})) is public_only  # one predicate per configuration


def test_tokens_carry_partner_and_origin_and_expire() -> None:
    signer = TokenSigner(b"k" * 32)
    token, session = signer.issue("p", "https://p.example", now=1000.0)
    assert signer.verify(token, now=1001.0) == session
    assert signer.verify(token, now=session.expires + 1) is None
    assert signer.verify(token + "x", now=1001.0) is None and signer.verify("garbage", now=1001.0) is None


def test_rate_limits_count_per_key_and_share_out_over_workers() -> None:
    limits = RateLimits(Settings(rate_limit_ask="2/minute"))
    assert [limits.hit("ask", "1.2.3.4") for _ in range(2)] == [None, None]
    wait = limits.hit("ask", "1.2.3.4")
    assert wait is not None and 1 <= wait <= 60  # until the first hit leaves the moving window
    assert limits.hit("ask", "5.6.7.8") is None  # another client has its own count
    assert limits.blocked("ask", "1.2.3.4") is not None and limits.blocked("ask", "9.9.9.9") is None
    per_worker = RateLimits(Settings(rate_limit_ask="4/minute", workers=2))  # in memory: each worker its share
    assert [per_worker.hit("ask", "k") for _ in range(3)][-1] is not None
    assert RateLimits(Settings(rate_limit_ask="1/minute", workers=4)).hit("ask", "k") is None  # never below 1
