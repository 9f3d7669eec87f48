"""The lab's SMTP sink, run as `bimkit lab up` runs it: a real aiosmtpd server on loopback."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from bimkit.lab import mail_sink
from bimkit.lab.state import LabPaths


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[tuple[LabPaths, int]]:
    paths, port = LabPaths(root=tmp_path / "lab", cache=tmp_path / "cache"), free_port()
    mail_sink.ensure_running(paths, "127.0.0.1", port)
    try:
        yield paths, port
    finally:
        mail_sink.stop(paths)


def test_the_sink_keeps_every_message_as_it_arrived(sink: tuple[LabPaths, int]) -> None:
    paths, port = sink
    assert mail_sink.messages(paths) == []
    message = EmailMessage()
    message["From"], message["To"] = "santral@kayapinar.bel.tr", "sukru.caglayan@kayapinar.bel.tr"
    message["Subject"] = "Yeni sesli mesaj: 3150"
    message.set_content("Şükrü Bey, bir mesajınız var.")
    wav = b"RIFF....WAVE"
    message.add_attachment(wav, maintype="audio", subtype="x-wav", filename="msg0000.wav")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message)
    [kept] = mail_sink.messages(paths)
    assert kept["To"] == "sukru.caglayan@kayapinar.bel.tr"
    assert kept["Subject"] == "Yeni sesli mesaj: 3150"
    [attachment] = list(kept.iter_attachments())
    assert attachment.get_filename() == "msg0000.wav"
    assert attachment.get_content() == wav


def test_a_second_start_keeps_the_running_sink_and_another_address_restarts_it(
    sink: tuple[LabPaths, int],
) -> None:
    paths, port = sink
    pid = mail_sink.daemon(paths).pid()
    assert pid is not None
    mail_sink.ensure_running(paths, "127.0.0.1", port)
    assert mail_sink.daemon(paths).pid() == pid
    other = free_port()
    mail_sink.ensure_running(paths, "127.0.0.1", other)
    assert mail_sink.daemon(paths).pid() not in (None, pid)
    with smtplib.SMTP("127.0.0.1", other, timeout=10) as smtp:
        assert smtp.noop()[0] == 250
    mail_sink.stop(paths)
    assert mail_sink.daemon(paths).pid() is None
