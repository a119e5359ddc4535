"""The desk's commands: `staff` (accounts: add, disable, enable, sign-out), `enquiries` (import, exports,
erasure, purge), `mail` (poll, status) and `jobs run`. `ui/cli.py` registers them."""

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.errors import AssistantError, InvalidRequest

if TYPE_CHECKING:
    from assistant.desk import Desk, Receipt


def _iso(value: object) -> str:
    """JSON for what `json` cannot write itself: times as ISO 8601."""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _staff(args: argparse.Namespace, settings: Settings) -> int:
    import getpass

    from assistant.desk import Accounts, open_database

    accounts = Accounts(settings, open_database(settings))  # accounts alone: no engine to load
    if args.staff_action in ("disable", "enable"):
        accounts.set_disabled(args.email, args.staff_action == "disable")
        done = "disabled and signed out everywhere" if args.staff_action == "disable" else "enabled"
        print(f"Staff account {args.email} is {done}.")
        return 0
    if args.staff_action == "sign-out":
        ended = accounts.sign_out_everywhere(args.email)
        print(f"Signed {args.email} out everywhere ({ended} sessions ended).")
        return 0
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        password = getpass.getpass(f"Password for {args.email}: ")
        if getpass.getpass("Again: ") != password:
            raise InvalidRequest("The two passwords differ; nothing was changed.")
    else:
        raise InvalidRequest("No terminal to ask for the password: pipe it in with --password-stdin.")
    member = accounts.add(args.email, password, args.role)
    print(f"Staff account {member.email} ({member.role}) is ready; sign in at /login (any earlier sessions ended).")
    return 0


def _import(desk: "Desk", files: list[str]) -> int:
    """Each file's enquiries taken in turn (CSV rows received; e-mail through the mailbox's door); one that cannot
    be read is reported and the rest go on."""
    failed = 0
    for name in files:
        path = Path(name)
        try:
            if path.suffix.lower() == ".csv":
                for where, item in desk.enquiries.import_csv(path):
                    failed += isinstance(item, AssistantError)
                    print(_receipt(where, item), file=sys.stderr if isinstance(item, AssistantError) else sys.stdout)
            else:
                for where, result in desk.mail.import_file(path):
                    failed += isinstance(result, AssistantError)
                    shown = f"skipped {where}: {result}" if isinstance(result, AssistantError) else f"{where}: {result}"
                    print(shown, file=sys.stderr if isinstance(result, AssistantError) else sys.stdout)
        except (OSError, UnicodeDecodeError) as exc:
            failed += 1
            print(f"skipped {path}: cannot read it ({exc})", file=sys.stderr)
    return 1 if failed else 0


def _receipt(where: str, item: "Receipt | AssistantError") -> str:
    if isinstance(item, AssistantError):
        return f"skipped {where}: {item}"
    merged = "" if item.created else ", merged into an open one"
    return f"{where}: enquiry {item.id}{merged} (reference {item.reference})"


def _enquiries(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.desk import Desk, Privacy, load_taxonomy, open_database, write_private

    if args.action == "import":  # triaged as they arrive: the engine drafts the replies
        return _import(Desk.open(settings), args.files)
    privacy = Privacy(open_database(settings), load_taxonomy(settings.taxonomy_file))  # no engine needed
    if args.action == "export-csv":
        write_private(Path(args.target), privacy.export_csv(None))
        print(f"Wrote {args.target}")
    elif args.action == "export-subject":
        exported = asdict(privacy.export_subject(args.target, None))
        print(json.dumps(exported, indent=2, ensure_ascii=False, default=_iso))
    elif args.action == "erase-subject":
        print(f"Erased the personal data of {privacy.erase_subject(args.target, None)} enquiries.")
    elif args.action == "purge":
        erased = privacy.purge("cli")
        print(f"Erased the personal data of {erased} resolved enquiries past their retention.")
    return 0


def _mail(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.desk import Desk, MailStatus

    desk = Desk.open(settings)
    if args.mail_action == "poll":
        report = desk.mail.poll()
        results = ", ".join(f"{n} {kind}" for kind, n in sorted(report.results.items())) or "nothing new"
        print(f"Read {report.messages} messages in {report.seconds:.1f} s: {results}.")
        return 0
    health = desk.mail.health()
    print(json.dumps(asdict(health), indent=2, default=_iso))
    for row in desk.mail.outgoing(20):
        if row.status != MailStatus.SENT:
            why = f": {row.error}" if row.error else ""
            print(f"outbox {row.id} ({row.kind}): {row.status}{why}")
    return 0


def _jobs(args: argparse.Namespace, settings: Settings) -> int:
    """Run background jobs in the foreground: until none is due (--until-idle), or until stopped (Ctrl-C)."""
    from assistant.desk import Desk

    desk = Desk.open(settings)
    if args.until_idle:
        print(f"Ran {desk.run_jobs()} jobs.")
        return 0
    print("Running background jobs (mail, mailbox polls, retention); Ctrl-C to stop.")
    desk.start_jobs()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        desk.close()
    return 0


def desk_parsers(sub: Any) -> None:
    staff = sub.add_parser("staff", help="staff accounts for the console at /staff")
    staff_actions = staff.add_subparsers(dest="staff_action", required=True)
    add = staff_actions.add_parser("add", help="create an account (or reset its password and role)")
    add.add_argument("email")
    add.add_argument("--role", choices=["admin", "staff"], default="staff")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input (default: ask at the terminal)",
    )
    for action, helptext in (
        ("disable", "disable an account: its sessions end and sign-in is refused until `enable`"),
        ("enable", "enable a disabled account"),
        ("sign-out", "end every session of an account (sign it out everywhere)"),
    ):
        staff_actions.add_parser(action, help=helptext).add_argument("email")
    enq = sub.add_parser("enquiries", help="import, export, erase or purge enquiries")
    enq_actions = enq.add_subparsers(dest="action", required=True)
    imp = enq_actions.add_parser("import", help="import e-mails (.eml, .mbox) or a CSV (name,email,message,...)")
    imp.add_argument("files", nargs="+", metavar="FILE")
    for action, target, helptext in (
        ("export-csv", "target", "write every enquiry to a CSV file"),
        ("export-subject", "target", "print everything held about an e-mail address (subject access), as JSON"),
        ("erase-subject", "target", "erase the personal data held about an e-mail address"),
    ):
        enq_actions.add_parser(action, help=helptext).add_argument(target)
    enq_actions.add_parser("purge", help="erase personal fields of enquiries resolved longer ago than retention")
    mail = sub.add_parser("mail", help="read the mailbox now, or show how mail is doing")
    mail_actions = mail.add_subparsers(dest="mail_action", required=True)
    mail_actions.add_parser("poll", help="read new messages from CLUSTER_ASSISTANT_IMAP_URL once")
    mail_actions.add_parser("status", help="sending and receiving: last poll, queued, failed and unsent messages")
    jobs = sub.add_parser("jobs", help="background jobs (e-mail, mailbox polls, retention)")
    jobs_actions = jobs.add_subparsers(dest="jobs_action", required=True)
    run = jobs_actions.add_parser("run", help="run jobs in the foreground (serve runs them itself by default)")
    run.add_argument("--until-idle", action="store_true", help="stop when no job is due")


DESK_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "staff": _staff,
    "enquiries": _enquiries,
    "mail": _mail,
    "jobs": _jobs,
}
