"""Crash-safe personalisation: the card is pulled at every APDU of the write sequence.

Each case inserts a blank card that vanishes at APDU n (before answering it, or right after
executing an UPDATE RECORD), runs the job, and checks that
- the job did not report success and its journal says where it stopped;
- after re-inserting the card, the same job resumes and succeeds only after full read-back;
- the card then holds exactly the data, byte for byte.
"""
import pytest

from hardware import errors, profile, reader
from hardware.personalise import RETRYABLE, CardMismatchError, Journal, personalise, verify_card
from hardware.security import SimulatedSecurityModule

pytestmark = pytest.mark.hardware
SAM = SimulatedSecurityModule()
# APDUs of a personalisation of a blank card: bank check (4), select + read EF05/EF06 (17),
# select + authenticate (4), 13 UPDATE RECORDs with 2 SELECTs, read-back (17).
SEQUENCE_LENGTH = 57
N_UPDATES = len(profile.FIELDS)


def test_sequence_length_is_what_the_crash_cases_cover(card_slot, card_data):
    with reader.connect(card_slot.reader) as conn:
        assert personalise(conn, card_data, SAM).apdus == SEQUENCE_LENGTH


def _interrupted_then_resumed(slot, card_data, journal_path, fault):
    slot.insert(faults=[fault])
    journal = Journal.open(journal_path, "job-crash")
    with pytest.raises(RETRYABLE):
        with reader.connect(slot.reader, transmit_timeout=5) as conn:
            personalise(conn, card_data, SAM, journal)
    after_crash = Journal.open(journal_path, "job-crash")
    assert after_crash.state in ("new", "writing", "verifying")  # never "done"
    slot.wait_gone()

    slot.insert()  # the clerk puts the same card back
    with reader.connect(slot.reader) as conn:
        result = personalise(conn, card_data, SAM, Journal.open(journal_path, "job-crash"))
        assert result.ok and result.resumed == (after_crash.state != "new")
        assert verify_card(conn, card_data) == []
    assert Journal.open(journal_path, "job-crash").state == "done"
    return after_crash


@pytest.mark.parametrize("n", range(1, SEQUENCE_LENGTH + 1))
def test_card_pulled_before_apdu_n(card_slot, card_data, tmp_path, n):
    _interrupted_then_resumed(card_slot, card_data, str(tmp_path / "job.json"), f"pull@{n}")


@pytest.mark.parametrize("k", range(1, N_UPDATES + 1))
def test_card_pulled_right_after_update_k_landed(card_slot, card_data, tmp_path, k):
    """The write landed but its answer was lost: the resume must find it on the card."""
    journal = _interrupted_then_resumed(card_slot, card_data, str(tmp_path / "job.json"), f"pull-after@UPDATE:{k}")
    assert len(journal.written) == k - 1  # unconfirmed, so not journaled as written


def test_resume_refuses_a_different_card(card_slot, card_data, tmp_path):
    path = str(tmp_path / "job.json")
    card_slot.insert(faults=["pull@UPDATE:4"])
    with pytest.raises(errors.CardRemovedError):
        with reader.connect(card_slot.reader) as conn:
            personalise(conn, card_data, SAM, Journal.open(path, "job"))
    card_slot.wait_gone()
    card_slot.blank(bank_card_number="6222020000000000001").insert()  # another blank card
    with reader.connect(card_slot.reader) as conn:
        with pytest.raises(CardMismatchError):
            personalise(conn, card_data, SAM, Journal.open(path, "job"))
        assert verify_card(conn, card_data) != []  # nothing was written on it


def test_a_finished_job_is_not_run_twice(card_slot, card_data, tmp_path):
    path = str(tmp_path / "job.json")
    with reader.connect(card_slot.reader) as conn:
        personalise(conn, card_data, SAM, Journal.open(path, "job"))
        with pytest.raises(errors.HardwareError):
            personalise(conn, card_data, SAM, Journal.open(path, "job"))
