"""The virtual-card feeder (演示用): puts a fresh virtual blank card in the reader for each issue
job, so the demo and the tests need no card by hand. A simulator, like ``virtual_card``."""

from __future__ import annotations

import logging
import os
import re

from . import lab, profile, reader
from .virtual_card import create_blank

log = logging.getLogger(__name__)

from .station.errors import BadJobError, StationError, VirtualReaderBusyError


class VirtualCardFeeder:
    """Demo/test aid 虚拟空白卡 (``--virtual-cards DIR``), not part of the protocol: plays the
    clerk who takes the blank card assigned to an issue job from the stock and puts it in the
    reader.

    Blank card X is the virtual card state file ``DIR/<X>.json``, created blank with bank
    account X the first time it is needed and never re-blanked afterwards (a resumed job must
    find its half-written card). The card stays in the reader after its job; the next card
    swaps it; ``close()`` pulls it.
    """

    NUMBER = re.compile(r"[0-9]{1,19}")

    def __init__(self, directory: str, reader_name: str | None, insert_timeout: float = 15.0):
        if reader_name not in lab.VIRTUAL_READERS:
            names = ", ".join(repr(r) for r in lab.VIRTUAL_READERS)
            raise StationError(
                f"--virtual-cards 只能用于虚拟读卡器（--reader {names}），当前为 {reader_name!r}",
                f"--virtual-cards needs --reader to be a virtual reader ({names}), "
                f"not {reader_name!r}",
            )
        self.directory = os.path.abspath(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.reader_name = reader_name
        self.slot = lab.VIRTUAL_READERS.index(reader_name)
        self.insert_timeout = insert_timeout
        self.proc = None  # the card process this station inserted
        self.path: str | None = None
        self.present_counter = -1

    def card_path(self, bank_card_number: str) -> str:
        if not self.NUMBER.fullmatch(bank_card_number):
            raise BadJobError(
                f"预期银行卡号格式错误：{profile.mask(bank_card_number)}",
                f"expected_bank_card_number is not a card number: {profile.mask(bank_card_number)}",
            )
        return os.path.join(self.directory, f"{bank_card_number}.json")

    def insert(self, bank_card_number: str) -> str:
        """Make blank card ``bank_card_number`` the card in the reader; its state file."""
        path = self.card_path(bank_card_number)
        if self.path == path and self.proc is not None and self.proc.poll() is None:
            return path  # already in the reader
        self.pull()
        if reader.slot_status(self.reader_name)[0] == "present":
            raise VirtualReaderBusyError()
        if not os.path.exists(path):
            create_blank(path, bank_card_number)
            log.info("virtual blank card %s created", profile.mask(bank_card_number))
        self.proc = lab.start_virtual_card(path, self.slot, timeout=self.insert_timeout)
        self.path = path
        self.present_counter = reader.slot_status(self.reader_name)[1]
        log.info(
            "virtual card %s inserted into %s", profile.mask(bank_card_number), self.reader_name
        )
        return path

    def pull(self) -> None:
        """Take out the card this station inserted and wait until pcscd registered it (a card
        put in before that would look like the old one, never powered up again)."""
        if self.proc is None:
            return
        proc, self.proc, self.path = self.proc, None, None
        lab.stop(proc)
        lab.wait_for_no_card(self.reader_name, self.present_counter)

    close = pull


# --- the station ------------------------------------------------------------------------------
