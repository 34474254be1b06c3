"""Jobs on a card in use: read, verify, block the application 应用锁定, reset the PIN 密码重置 and
rewrite the insured region 参保地写入 (the card must be the job's holder's)."""

from __future__ import annotations

from .. import errors, profile
from ..card import SocialSecurityCard
from ..personalise import verify_card
from ..region import RegionJournal, check_region, rewrite_region
from .errors import BadJobError
from .job import Outcome, check_job_holder, job_holder, required


class CardInUseJobs:
    """The ``read``, ``verify``, ``block``, ``reset_pin`` and ``rewrite_region`` kinds, mixed
    into :class:`~.runner.Station`."""

    def _read(self, job: dict) -> Outcome:
        """读卡: whatever card is in the reader."""

        def work(conn) -> Outcome:
            self._progress(job["id"], "reading", "读卡（reading the card）")
            info = SocialSecurityCard(conn).read()
            return Outcome(info.as_dict(), info.bank_card_number, conn.apdu_count)

        return self._with_card(job["id"], work)

    def _verify(self, job: dict) -> Outcome:
        """校验: the card holds exactly the job's card data."""
        data = required(job, "card", dict)
        profile.encode_card(data)
        self._feed_holder(job)

        def work(conn) -> Outcome:
            self._progress(job["id"], "verifying", "校验卡片数据（verifying the card）")
            differences = verify_card(conn, data)
            if differences:
                raise errors.VerificationError(differences)
            info = SocialSecurityCard(conn).read()
            return Outcome(info.as_dict(), info.bank_card_number, conn.apdu_count)

        return self._with_card(job["id"], work)

    def _holder_card(self, conn, job: dict) -> SocialSecurityCard:
        """The card in the reader must be the job's holder's (blocking a stranger's card
        cannot be undone)."""
        job_holder(job)
        card = SocialSecurityCard(conn)
        check_job_holder(job, card.read())
        return card

    def _block(self, job: dict) -> Outcome:
        """应用锁定 (lost/replaced card). Idempotent: an already blocked card is fine."""
        job_holder(job)
        self._feed_holder(job)

        def work(conn) -> Outcome:
            card = self._holder_card(conn, job)
            self._progress(job["id"], "blocking", "锁定社保应用（blocking the application）")
            card.block_application(self.sam)
            info = card.read()
            if not info.blocked:
                raise errors.HardwareError(
                    "锁定后读卡仍为正常状态", "the application still reads as active after blocking"
                )
            return Outcome(info.as_dict(), info.bank_card_number, conn.apdu_count)

        return self._with_card(job["id"], work)

    def _reset_pin(self, job: dict) -> Outcome:
        """密码重置 to ``new_pin`` or the issued PIN (the holder changes it at a PIN pad)."""
        new_pin = str(job.get("new_pin") or profile.ISSUED_PIN)
        job_holder(job)
        self._feed_holder(job)

        def work(conn) -> Outcome:
            card = self._holder_card(conn, job)
            self._progress(job["id"], "resetting_pin", "重置密码（resetting the PIN）")
            card.reset_pin(new_pin, self.sam)
            info = card.read()
            return Outcome(info.as_dict(), info.bank_card_number, conn.apdu_count)

        return self._with_card(job["id"], work)

    def _rewrite_region(self, job: dict) -> Outcome:
        """参保地写入 (moving between the city's regions, same card): write EF0D, read it back,
        verify; crash-safe with its journal (``hardware/region.py``)."""
        job_id = job["id"]
        job_holder(job)
        try:
            region_code, moved_on = check_region(job.get("region"))
        except errors.ProfileError as e:
            raise BadJobError(f"参保地信息格式错误：{e.zh}", f"malformed region: {e.en}",
                              fields=e.errors) from None
        self._feed_holder(job)
        journal = RegionJournal.open(self.spool.path(job_id, "journal.json"), job_id)

        def work(conn) -> Outcome:
            self._progress(job_id, "rewriting_region",
                           "写入参保地信息并校验（writing and verifying the insured region）")
            result = rewrite_region(conn, region_code, moved_on, self.sam, journal,
                                    check=lambda info: check_job_holder(job, info))
            return Outcome(result.card, result.bank_card_number, result.apdus, result.resumed,
                           {"region": result.region})

        return self._with_card(job_id, work)
