"""`make audit`: pip-audit over the locked dependencies, honest about what it could check.

pip-audit says "No known vulnerabilities found" and exits 0 even when it could look up no package at all (here the
package index is not the one the advisory service knows). This reads its JSON instead and says how many packages
were actually checked; it fails when any has a known vulnerability, and when none could be checked: a check that
cannot fail is not a check. It needs the network, so it is not part of `make test`.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def summarize(report: dict[str, Any]) -> tuple[str, int]:
    """The line to print and the exit code, from pip-audit's JSON report."""
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if d.get("skip_reason")]
    checked = [d for d in dependencies if not d.get("skip_reason")]
    vulnerable = [d for d in checked if d.get("vulns")]
    line = f"pip-audit checked {len(checked)} of {len(dependencies)} locked packages"
    if skipped:
        line += f" ({len(skipped)} could not be looked up, e.g. {skipped[0]['name']}: {skipped[0]['skip_reason']})"
    if vulnerable:
        listed = ", ".join(f"{d['name']} {d.get('version', '')} ({len(d['vulns'])})" for d in vulnerable)
        return f"{line}; known vulnerabilities in: {listed}", 1
    if not checked:
        return f"{line}: nothing was checked, so nothing is known to be safe", 1
    return f"{line}; no known vulnerabilities in those", 0


def main() -> int:
    lock = Path("requirements.lock").read_text(encoding="utf-8").splitlines()
    requirements = Path(".cache/requirements-audit.txt")
    requirements.parent.mkdir(exist_ok=True)
    requirements.write_text("\n".join(line for line in lock if "+cpu" not in line) + "\n", encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "-r",
        str(requirements),
        "--no-deps",
        "--disable-pip",
        "--progress-spinner",
        "off",
        "-f",
        "json",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        print(f"pip-audit did not report (exit {done.returncode}): {done.stderr.strip()[-500:]}", file=sys.stderr)
        return 1
    line, code = summarize(report)
    print(line, file=sys.stderr if code else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main())
