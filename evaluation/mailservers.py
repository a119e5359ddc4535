"""Real mail servers on loopback, for the tests and the mail benchmark: an SMTP server (aiosmtpd, STARTTLS with a
throwaway CA from `trustme`) that records what it receives and can refuse or misbehave on cue, and Debian's
Dovecot as an IMAP-over-TLS mailbox with a throwaway mail location.

tls = throwaway_ca(tmp)
with smtp_server(tls) as smtp:          # smtp.url, smtp.received, smtp.refuse_next
    ...
with dovecot(tls) as box:               # box.url, box.append(raw)
    ...
"""

import email
import email.policy
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from evaluation.load import free_port

USER, PASSWORD = "desk@cluster.example", "a mailbox password"


@dataclass(frozen=True)
class ThrowawayCA:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self.cert_file), str(self.key_file))
        return context


def throwaway_ca(folder: Path) -> ThrowawayCA:
    """A CA and a certificate for 127.0.0.1/localhost signed by it (the clients trust `ca_file`)."""
    import trustme

    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    made = ThrowawayCA(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    ca.cert_pem.write_to_path(str(made.ca_file))
    cert.private_key_pem.write_to_path(str(made.key_file))
    cert.cert_chain_pems[0].write_to_path(str(made.cert_file))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(made.cert_file), append=True)
    return made


@dataclass
class SmtpServer:
    url: str
    received: list[EmailMessage] = field(default_factory=list)
    refuse_next: int = 0  # answer this many messages with 451 (try again later) before accepting
    on_message: Callable[[EmailMessage], None] | None = None  # runs after a message is recorded, before the 250

    def find(self, **headers: str) -> list[EmailMessage]:
        return [m for m in self.received if all(str(m.get(k, "")) == v for k, v in headers.items())]


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        if self.server.refuse_next > 0:
            self.server.refuse_next -= 1
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.server.received.append(message)  # type: ignore[arg-type]
        if self.server.on_message is not None:
            self.server.on_message(message)  # type: ignore[arg-type]
        return "250 OK"


@contextmanager
def smtp_server(tls: ThrowawayCA | None, user: str = USER, password: str = PASSWORD) -> Iterator[SmtpServer]:
    """An SMTP server on a free loopback port that insists on STARTTLS and a sign-in; without `tls`, a plain relay
    (no STARTTLS, no sign-in), as Postfix on a machine's loopback is."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def authenticator(_server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login.decode() == user and data.password.decode() == password
        return AuthResult(success=ok)

    port = free_port()
    if tls is None:
        server = SmtpServer(f"smtp://127.0.0.1:{port}")
        controller = Controller(_Handler(server), hostname="127.0.0.1", port=port)
    else:
        server = SmtpServer(f"smtp://{user.replace('@', '%40')}:{password.replace(' ', '%20')}@127.0.0.1:{port}")
        controller = Controller(
            _Handler(server),
            hostname="127.0.0.1",
            port=port,
            tls_context=tls.server_context(),
            require_starttls=True,
            authenticator=authenticator,
            auth_required=True,
        )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@dataclass
class Mailbox:
    url: str
    host: str
    port: int
    ca_file: Path

    def append(self, *messages: bytes) -> None:
        """Deliver messages into the INBOX (IMAP APPEND)."""
        from imap_tools import MailBox

        context = ssl.create_default_context(cafile=str(self.ca_file))
        with MailBox(self.host, self.port, ssl_context=context).login(USER, PASSWORD) as box:
            for raw in messages:
                box.append(raw, "INBOX")


DOVECOT_CONF = """protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = ca-test-{port}
log_path = {root}/dovecot.log
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = yes
first_valid_uid = 0
{internal}
mail_location = maildir:{root}/home/%u/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
"""


@contextmanager
def dovecot(tls: ThrowawayCA) -> Iterator[Mailbox]:
    """Debian's Dovecot serving IMAP over TLS on a free loopback port, one account (`USER`), with a throwaway mail
    location (its own folder under /tmp: Dovecot's unprivileged processes cannot enter pytest's 0700 folders)."""
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    root = Path(tempfile.mkdtemp(prefix="cluster-assistant-dovecot-"))
    root.chmod(0o755)
    for sub in ("run", "state", "home"):
        (root / sub).mkdir(exist_ok=True)
    if os.getuid() == 0:  # as root: mail belongs to Debian's `dovecot` user, Dovecot's own processes as usual
        owner = pwd.getpwnam("dovecot")
        internal = ""
        shutil.chown(root / "home", owner.pw_uid, owner.pw_gid)
    else:  # as anyone else: everything runs as that user
        owner = pwd.getpwuid(os.getuid())
        internal = f"default_internal_user = {owner.pw_name}\ndefault_login_user = {owner.pw_name}"
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
    (root / "passwd").chmod(0o644)
    port = free_port()
    conf = root / "dovecot.conf"
    ids = {"uid": owner.pw_uid, "gid": owner.pw_gid}
    text = DOVECOT_CONF.format(root=root, port=port, cert=tls.cert_file, key=tls.key_file, internal=internal, **ids)
    conf.write_text(text, encoding="utf-8")
    process = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_for(port, process, root)
        user = USER.replace("@", "%40")
        yield Mailbox(
            f"imaps://{user}:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{port}/INBOX", "127.0.0.1", port, tls.ca_file
        )
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(root, ignore_errors=True)


def _wait_for(port: int, process: subprocess.Popen[bytes], root: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (root / "dovecot.log").read_text(errors="replace") if (root / "dovecot.log").exists() else ""
            raise RuntimeError(f"dovecot exited: {process.stdout.read().decode() if process.stdout else ''} {log}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("dovecot did not start listening")
