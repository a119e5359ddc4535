"""`make audit` can fail: it says how many packages pip-audit actually checked, and fails when it checked none."""

from evaluation.audit import summarize

SKIPPED = {"name": "numpy", "skip_reason": "Dependency not found on PyPI and could not be audited: numpy (2.4.6)"}


def test_nothing_checked_is_a_failure_not_a_pass() -> None:
    line, code = summarize({"dependencies": [SKIPPED, {**SKIPPED, "name": "torch"}], "fixes": []})
    assert code == 1 and "checked 0 of 2" in line and "nothing was checked" in line


def test_the_count_of_checked_packages_is_reported() -> None:
    line, code = summarize({"dependencies": [{"name": "httpx", "version": "0.28.1", "vulns": []}, SKIPPED]})
    assert code == 0 and line.startswith("pip-audit checked 1 of 2 locked packages (1 could not be looked up")


def test_a_known_vulnerability_fails() -> None:
    vulnerable = {"name": "jinja2", "version": "3.1.0", "vulns": [{"id": "GHSA-x"}]}
    line, code = summarize({"dependencies": [vulnerable, {"name": "httpx", "version": "1", "vulns": []}]})
    assert code == 1 and "jinja2 3.1.0 (1)" in line
