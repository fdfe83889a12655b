"""A burst of submissions through every channel at once, each taken by its own long-running
`ers intake` process (drop folder, email over IMAP, a partner's SFTP inbox), sent in phases so a
fault can fall between them."""
from __future__ import annotations

import subprocess

from conftest import ACORN, BEECH

from sqlalchemy import select

from models import Submission
from tests.faults.batch import batch
from tests.faults.channels import PARTNER_ANSWERS, Partner, drop, email
from tests.faults.stack import Stack
from tests.faults.ledger import Sent

PARTNER_SCHOOLS = [ACORN, BEECH]


class Burst:
    def __init__(self, stack: Stack, per_channel: int, phases: int = 3) -> None:
        self.stack, self.phases = stack, phases
        self.folder = batch(per_channel, invalid_every=6)
        self.mail = batch(per_channel, invalid_every=6, first=per_channel)
        self.sftp = batch(per_channel // 2, PARTNER_SCHOOLS, invalid_every=5,
                          first=2 * per_channel, kinds=PARTNER_ANSWERS)
        self.drop_folder = stack.app.settings.data_dir / "drop"
        self.partner = Partner(stack.services.urls)
        self.partner.register(stack.app, PARTNER_SCHOOLS)
        self.intakes: list[subprocess.Popen] = []

    @property
    def sent(self) -> list[Sent]:
        return self.folder + self.mail + self.sftp

    def start_intakes(self) -> None:
        ers = self.stack.ers
        self.intakes = [
            ers("intake", "folder", str(self.drop_folder), "--interval", "0.2", "--settle", "0",
                name="intake-folder"),
            ers("intake", "email", name="intake-email"),
            ers("intake", "sftp", "--interval", "0.3", "--timeout", "10", name="intake-sftp")]

    def send(self, phase: int) -> None:
        """The ``phase``-th share of each channel's files."""
        def share(files: list[Sent]) -> list[Sent]:
            size = -(-len(files) // self.phases)
            return files[phase * size:(phase + 1) * size]
        drop(self.drop_folder, share(self.folder))
        email(self.stack.mail, self.stack.app.settings.mail_from, share(self.mail))
        self.partner.put(share(self.sftp))

    def every_intake_took_one(self) -> bool:
        """Each channel has a submission: every intake is up and working (a fault before one
        has started would only test its start-up)."""
        with self.stack.app.sessions() as session:
            channels = set(session.scalars(select(Submission.channel).distinct()))
        return channels >= {"folder", "email", "sftp"}

    def intakes_alive(self) -> bool:
        return all(p.poll() is None for p in self.intakes)

    def sources_left(self) -> dict[str, int]:
        """What each channel still holds untaken: all zero once every source was moved aside."""
        mail = self.stack.mail
        return {"folder": len(list(self.drop_folder.glob("*@*/*.xlsx"))),
                "mailbox": len(mail.messages(self.stack.app.settings.mail_from)),
                "sftp": len([n for n in self.partner.listdir(self.partner.inbox) if n != "processed"])}
