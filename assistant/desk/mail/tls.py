"""TLS for both mail servers (SMTP out, IMAP in): verified certificates, the system's CAs and `mail_ca_file`'s."""

import ssl

from assistant.config import Settings


def tls_context(settings: Settings) -> ssl.SSLContext:
    """Verified TLS: the system's CAs, and `mail_ca_file`'s for a private CA."""
    context = ssl.create_default_context()
    if settings.mail_ca_file:
        context.load_verify_locations(cafile=str(settings.mail_ca_file))
    return context
