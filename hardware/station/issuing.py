"""发卡 on the station: the financial data check, the holder check, the card face printed once,
personalisation (write, read back, verify), and a resumed job's fresh read-back."""

from __future__ import annotations

import os

from .. import errors, profile
from ..card import SocialSecurityCard
from ..personalise import CardAlreadyPersonalisedError, CardMismatchError, Journal, personalise, verify_card
from ..printer import CardFace
from .errors import BankMismatchError
from .job import Outcome, digits, required
from .spool import _now, _read_json, write_json_atomic


class IssueJobs:
    """The ``issue`` kind, mixed into :class:`~.runner.Station`."""

    def _issue(self, job: dict) -> Outcome:
        """发卡: financial data check, holder check, print the face, personalise (write + read
        back + verify). Nothing is printed for a card that cannot be written."""
        job_id = job["id"]
        data = required(job, "card", dict)
        profile.encode_card(data)  # invalid data fails before anything is printed or written
        face = CardFace.from_dict(job_id, job.get("face") or {}, data)
        face.validate()
        expected = digits(job.get("expected_bank_card_number"))
        journal = Journal.open(self.spool.path(job_id, "journal.json"), job_id)
        if self.cards is not None and expected:
            self.cards.insert(expected)

        def work(conn) -> Outcome:
            card = SocialSecurityCard(conn)
            if journal.state == "done":
                return self._reverify(conn, data, journal)
            self._progress(job_id, "checking_bank", "核对银行账户（financial data check）")
            bank = card.bank_card_number()
            if journal.bank_card_number is not None and bank != journal.bank_card_number:
                raise CardMismatchError()  # half-written job, another card: wait for the original
            if expected and bank != expected:
                raise BankMismatchError(expected, bank)
            _check_holder(card, data)
            printed = self._print_once(job_id, face)
            self._progress(job_id, "writing", "写卡并校验（writing and verifying the chip）")
            result = personalise(conn, data, self.sam, journal)
            return Outcome(
                result.card,
                bank,
                result.apdus,
                result.resumed or journal.attempts > 1,
                {"printed": printed},
            )

        return self._with_card(job_id, work)

    def _reverify(self, conn, data: dict, journal: Journal) -> Outcome:
        """Killed after personalisation finished but before the result was saved: success
        is still only reported after a fresh read-back of the whole card."""
        start = conn.apdu_count
        info = SocialSecurityCard(conn).read()
        if info.bank_card_number != journal.bank_card_number:
            raise CardMismatchError()
        differences = verify_card(conn, data)
        if differences:
            raise errors.VerificationError(differences)
        printed = (
            _read_json(self.spool.path(journal.job_id, "printed.json"))
            if self.spool.has(journal.job_id, "printed.json")
            else None
        )
        return Outcome(
            info.as_dict(),
            info.bank_card_number,
            conn.apdu_count - start,
            True,
            {"printed": printed},
        )

    def _print_once(self, job_id: str, face: CardFace) -> dict:
        """A real printer cannot un-print: a resumed job does not print its face again."""
        marker = self.spool.path(job_id, "printed.json")
        if os.path.exists(marker):
            return _read_json(marker)
        self._progress(job_id, "printing", "打印卡面（printing the card face）")
        printed = self.printer.print_card(face)
        info = {"path": printed.path, "size": list(printed.size), "at": _now()}
        write_json_atomic(marker, info)
        return info


def _check_holder(card: SocialSecurityCard, data: dict) -> None:
    """Before printing: the card must be blank or already carry this holder's data (a resumed
    job), and its application must not be blocked; ``personalise`` checks the same again."""
    on_card = card.read_all()
    if card.blocked:
        raise errors.ApplicationBlockedError(0x9303, "SELECT")
    holder = on_card[profile.EF06].get("ssn")
    if holder is not None and holder != profile.tlv(profile.BY_KEY["ssn"], data["ssn"]):
        raise CardAlreadyPersonalisedError()
