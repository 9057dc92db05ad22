"""A real SMTP server for runtime/tests/smtp.rs: aiosmtpd on 127.0.0.1 (free port printed
on the first line of stdout), each accepted message written as JSON to the folder given
(envelope, login, raw data, and the decoded Subject and body).

With a certificate and key as further arguments, STARTTLS is offered and required.
Recipients starting with `refuse` are answered 550; AUTH PLAIN/LOGIN is offered over the
plain connection (loopback only) and accepts the login `weir` / `pw-s3cret`.
"""
import email
import email.policy
import json
import os
import socket
import ssl
import sys
import logging
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

OUT = sys.argv[1]
# aiosmtpd logs a warning about its own deprecated attribute when a login succeeds.
logging.getLogger("mail.log").setLevel(logging.ERROR)


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refuse"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        login = session.auth_data.login.decode() if session.authenticated else None
        n = len(os.listdir(OUT))
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with open(os.path.join(OUT, "%04d.json.tmp" % n), "w") as f:
            json.dump(
                {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "login": login,
                    "data": envelope.content.decode("utf-8", "replace"),
                    "subject": str(message["subject"]),
                    "body": message.get_content(),
                },
                f,
            )
        os.rename(os.path.join(OUT, "%04d.json.tmp" % n), os.path.join(OUT, "%04d.json" % n))
        return "250 Message accepted for delivery"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"weir" and auth_data.password == b"pw-s3cret"
    return AuthResult(success=ok, auth_data=auth_data)


probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
tls = {}
if len(sys.argv) > 3:
    # STARTTLS with this certificate and key, required before any mail.
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(sys.argv[2], sys.argv[3])
    tls = {"tls_context": context, "require_starttls": True}
controller = Controller(
    Handler(),
    **tls,
    hostname="127.0.0.1",
    port=port,
    authenticator=authenticate,
    auth_require_tls=False,
)
controller.start()
print(port, flush=True)
while True:
    time.sleep(3600)
