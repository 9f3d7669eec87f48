"""The lab's SMTP sink: the mail relay the PBX hands voicemail to.

Production mails voicemail through the relay named in the data
(`telephony.mail_relay`); the lab cannot reach one, so `bimkit lab up` runs a
real SMTP server (aiosmtpd) on the PBX's site gateway and keeps every message
it is given, as it arrived, in a Maildir under the lab's folder:

    python -m bimkit.lab.mail_sink serve MAILDIR --address 10.21.17.1 --port 2525
"""

from __future__ import annotations

import argparse
import email.policy
import mailbox
import sys
import threading
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from bimkit.lab.daemon import Daemon
from bimkit.lab.state import LabPaths

PORT = 2525
"""Not 25: the box may run its own MTA there."""


def maildir(paths: LabPaths) -> Path:
    return paths.root / "mail"


def daemon(paths: LabPaths) -> Daemon:
    return Daemon("mail-sink", paths.root / "mail-run", b"bimkit.lab.mail_sink")


def relay(address: str) -> dict[str, Any]:
    """`telephony.mail_relay` as the lab's machines reach the sink: plain SMTP on a lab LAN."""
    return {"host": address, "port": PORT, "starttls": False}


def ensure_running(paths: LabPaths, address: str, port: int = PORT) -> None:
    """The sink answering on `address` (restarted when it listens elsewhere)."""
    sink = daemon(paths)
    argv = [sys.executable, "-m", "bimkit.lab.mail_sink", "serve", str(maildir(paths)),
            "--address", address, "--port", str(port)]  # fmt: skip
    if sink.ensure(argv):
        sink.wait_listening(address, port)


def stop(paths: LabPaths) -> None:
    daemon(paths).stop()


def messages(paths: LabPaths) -> list[EmailMessage]:
    """Every message the sink took, parsed, oldest first."""
    folder = maildir(paths)
    if not (folder / "new").is_dir():
        return []
    files = sorted((folder / "new").iterdir(), key=lambda path: path.stat().st_mtime)
    policy = email.policy.default
    return [email.message_from_bytes(p.read_bytes(), EmailMessage, policy=policy) for p in files]


def serve(folder: Path, address: str, port: int) -> None:
    # aiosmtpd is imported here: only the sink's own process needs it.
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Mailbox

    mailbox.Maildir(folder, create=True)
    controller = Controller(Mailbox(folder), hostname=address, port=port)
    controller.start()
    try:
        threading.Event().wait()
    finally:
        controller.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bimkit.lab.mail_sink")
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=PORT)
    arguments = parser.parse_args(argv)
    serve(arguments.folder, arguments.address, arguments.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
