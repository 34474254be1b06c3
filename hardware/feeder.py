"""The virtual-card feeder (演示用): puts a fresh virtual blank card in the reader for each issue
job, and the holder's own virtual card for each job on a card in use, so the demo and the tests
need no card by hand. A simulator, like ``virtual_card``."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re

from stdnum import luhn

from . import errors, lab, profile, reader
from .virtual_card import create_blank, create_issued

log = logging.getLogger(__name__)

from .station.errors import BadJobError, StationError, VirtualReaderBusyError

#: jobs on a card in use: the feeder inserts the holder's card, made as an issued card if the
#: directory has none for the job's card number yet and the job's card data is complete
HOLDER_KINDS = ("change_pin", "reset_pin", "block", "rewrite_region")
#: ``verify`` compares the chip with the job's data: the holder's card is inserted if the
#: directory has it, never made for the job (a card made from the data would always match)
FIND_ONLY_KINDS = ("verify",)
#: the made-up bank account of a holder's card whose job names none (``made_up_bank_card_number``)
MADE_UP_BIN = "621799"


def made_up_bank_card_number(card_number: str) -> str:
    """A deterministic bank account for the virtual card of ``card_number`` (19 digits, Luhn
    check digit; the demo's own prefix, not a real bank's range)."""
    digest = int(hashlib.sha256(str(card_number).upper().encode("ascii", "replace")).hexdigest(), 16)
    body = f"{MADE_UP_BIN}{digest % 10**12:012d}"
    return body + luhn.calc_check_digit(body)


class VirtualCardFeeder:
    """Demo/test aid 虚拟空白卡 (``--virtual-cards DIR``), not part of the protocol: plays the
    clerk who takes the blank card assigned to an issue job from the stock and puts it in the
    reader.

    Blank card X is the virtual card state file ``DIR/<X>.json``, created blank with bank
    account X the first time it is needed and never re-blanked afterwards (a resumed job must
    find its half-written card). The card stays in the reader after its job; the next card
    swaps it; ``close()`` pulls it.

    Jobs on a card in use (``HOLDER_KINDS``) play the holder who puts their own card in the
    terminal (``insert_holder``): the card file of the job's card number (issued by an earlier
    issue job, or made by an earlier job on that card) keeps its state across jobs (PIN
    changed, region rewritten, blocked), like a real card.
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
        if not self._in_reader(path):
            self._put_in(path, create=lambda: self._create_blank(path, bank_card_number))
        return path

    def insert_holder(self, job: dict) -> str | None:
        """Jobs on a card in use (``HOLDER_KINDS``, and ``FIND_ONLY_KINDS``): make the holder's
        virtual card the card in the reader; its state file, or None when the feeder leaves
        the reader as it is (another kind, no card file and incomplete card data, a card in
        the reader the station did not insert: the job then checks the card it finds).

        The card file is the one holding the job's ``card.card_number`` and ``card.ssn``;
        without one, and with card data that encodes (``profile.encode_card``), it is made as
        that holder's issued card (issued PIN, never moved), bank account
        ``card.bank_card_number`` if the job has one, else ``made_up_bank_card_number``."""
        kind = job.get("kind")
        data = job.get("card")
        if kind not in HOLDER_KINDS + FIND_ONLY_KINDS or not isinstance(data, dict):
            return None
        path = self.holder_card_path(data)
        if path is None and kind in HOLDER_KINDS:
            path = self._create_holder_card(data)
        if path is None:
            return None
        if self._in_reader(path):
            return path
        try:
            self._put_in(path)
        except VirtualReaderBusyError as e:
            log.warning("holder's virtual card not inserted: %s", e.en)
            return None
        return path

    def holder_card_path(self, data: dict) -> str | None:
        """The card file in the directory holding card number ``data["card_number"]`` of holder
        ``data["ssn"]`` (the two keys the station checks), or None."""
        try:
            number = profile.tlv(profile.BY_KEY["card_number"], data.get("card_number"))
            ssn = profile.tlv(profile.BY_KEY["ssn"], data.get("ssn"))
        except errors.ProfileError:
            return None
        want = (number.hex().upper(), ssn.hex().upper())
        for name in sorted(os.listdir(self.directory)):
            if name.startswith(".") or not name.endswith(".json"):
                continue  # temporary files of an atomic save
            path = os.path.join(self.directory, name)
            try:
                with open(path, encoding="utf-8") as fh:
                    records = json.load(fh).get("records") or {}
                have = ((records.get("EF05") or {}).get("07"), (records.get("EF06") or {}).get("08"))
            except (OSError, ValueError, AttributeError):
                continue
            if have == want:
                return path
        return None

    def _create_holder_card(self, data: dict) -> str | None:
        """Make the holder's issued card ``DIR/<bank account>.json``; None if the data is
        incomplete or that file is taken."""
        masked = profile.mask(str(data.get("ssn") or ""))
        try:
            profile.encode_card(data)
        except errors.ProfileError as e:
            log.info("no virtual card made for %s: incomplete card data (%s)", masked, e.en)
            return None
        bank = re.sub(r"\s", "", str(data.get("bank_card_number") or ""))
        if bank and not self.NUMBER.fullmatch(bank):
            log.warning("job's bank card number is malformed: a made-up one is used for %s", masked)
            bank = ""
        bank = bank or made_up_bank_card_number(data["card_number"])
        path = os.path.join(self.directory, f"{bank}.json")
        if os.path.exists(path):  # another card (e.g. a blank one) has this bank account
            log.warning("no virtual card made for %s: the card file of bank account %s holds "
                        "another card", masked, profile.mask(bank))
            return None
        create_issued(path, data, bank)
        log.info("virtual card of %s created as issued (bank account %s)", masked,
                 profile.mask(bank))
        return path

    @staticmethod
    def _create_blank(path: str, bank_card_number: str) -> None:
        create_blank(path, bank_card_number)
        log.info("virtual blank card %s created", profile.mask(bank_card_number))

    def _in_reader(self, path: str) -> bool:
        return self.path == path and self.proc is not None and self.proc.poll() is None

    def _put_in(self, path: str, create=None) -> None:
        """Pull the card this station inserted, then insert card file ``path`` (made by
        ``create()`` if missing); VirtualReaderBusyError if the reader holds another card."""
        self.pull()
        if reader.slot_status(self.reader_name)[0] == "present":
            raise VirtualReaderBusyError()
        if create is not None and not os.path.exists(path):
            create()
        self.proc = lab.start_virtual_card(path, self.slot, timeout=self.insert_timeout)
        self.path = path
        self.present_counter = reader.slot_status(self.reader_name)[1]
        log.info("virtual card %s inserted into %s",
                 profile.mask(os.path.basename(path)[:-5]), self.reader_name)

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
