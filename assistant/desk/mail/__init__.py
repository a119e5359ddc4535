"""The desk's mail: `receive` (a message taken in: new enquiry, reply, duplicate or robot), `message` (reading one
message: robots, threading, attachments), `imap` (the mailbox poll), `outbox` (the messages the desk writes, in the
transaction of their cause), `smtp` (sending one), `tls` (verified TLS for both servers) and `service` (`Mail`, what
the rest of the desk and the screens call)."""
