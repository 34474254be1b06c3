"""The demo station's card feeder (``--virtual-cards DIR``, ``hardware/feeder.py``) on jobs on a
card in use: it plays the holder who puts their own card in the terminal. The card file of the
job's card number is inserted, made as an issued card the first time when the job carries the
complete chip data (as the platform sends it), and keeps its state across jobs like a real card.
Issue jobs still get their blank card. Reader slot 1, through pcscd."""
import json
import os

import pytest
from stdnum import luhn

from hardware import profile, reader
from hardware.feeder import MADE_UP_BIN, VirtualCardFeeder, made_up_bank_card_number
from hardware.pinpad import ScriptedPinPad
from hardware.virtual_card import create_blank, create_issued
from tests.hardware.station_kit import BANK, READER, other_holder, run_station, station

REGION = {"region_code": "330212", "moved_on": "2026-12-07"}


def holder_job(kind, card, job_id, **extra):
    """A job on a card in use as the platform queues it: the complete chip data under ``card``."""
    return {"id": job_id, "kind": kind, "attempt": 1, "card": dict(card), **extra}


def issue_job(card, job_id, bank):
    return {"id": job_id, "kind": "issue", "attempt": 1, "card": dict(card),
            "face": {"bank": "中国工商银行", "issuer": "福建省人力资源和社会保障厅"},
            "expected_bank_card_number": bank}


def chip(path):
    return json.loads(open(path, encoding="utf-8").read())


def files(cards):
    return sorted(os.listdir(cards))


def run_fed(platform, tmp_path, feeder, **kw):
    """One job on a Station object fed by ``feeder`` (kept across runs, like one long-running
    demo station: the card stays in the reader between jobs), with the demo PIN pad."""
    s = station(platform, tmp_path, cards=feeder, pin_pad=ScriptedPinPad(), **kw)
    try:
        return s.run(once=True)
    finally:
        s.spool.close()


@pytest.fixture
def feeder(pcscd, tmp_path):
    assert reader.slot_status(READER)[0] != "present", "reader slot 1 is not free"
    f = VirtualCardFeeder(str(tmp_path / "cards"), READER)
    yield f
    f.close()


# --- without a card -----------------------------------------------------------------------------

def test_made_up_bank_card_number_is_deterministic_and_looks_like_one():
    number = made_up_bank_card_number("B7K334774")
    assert number == made_up_bank_card_number("b7k334774")  # the chip's card numbers are upper case
    assert len(number) == 19 and number.isdigit() and number.startswith(MADE_UP_BIN)
    assert luhn.is_valid(number)
    assert made_up_bank_card_number("B7K334783") != number


def test_the_feeder_finds_the_holders_card_file_by_card_number_and_ssn(tmp_path, card_data):
    cards = tmp_path / "cards"
    f = VirtualCardFeeder(str(cards), READER)
    create_blank(str(cards / f"{BANK}.json"), BANK)
    stranger = other_holder(card_data)
    create_issued(str(cards / "6217000000000000001.json"), stranger, "6217000000000000001")
    (cards / ".card-tmp.json").write_text("{half a fi")  # an atomic save in progress
    (cards / "notes.json").write_text("[]")
    assert f.holder_card_path(card_data) is None
    create_issued(str(cards / "6217000000000000002.json"), card_data, "6217000000000000002")
    assert f.holder_card_path(card_data) == str(cards / "6217000000000000002.json")
    assert f.holder_card_path(dict(card_data, card_number=card_data["card_number"].lower())) is not None
    assert f.holder_card_path({"ssn": card_data["ssn"], "card_number": stranger["card_number"]}) is None
    assert f.holder_card_path({"ssn": card_data["ssn"]}) is None
    # The reader is left alone (nothing to insert) for: a verify job without the card's file
    # (never made for it), incomplete data, other kinds.
    assert f.insert_holder(holder_job("verify", dict(stranger, card_number="188347080"), "J-V")) is None
    assert f.insert_holder(holder_job("change_pin", {"ssn": stranger["ssn"], "card_number": "188347080"}, "J-1")) is None
    assert f.insert_holder(holder_job("change_pin", dict(card_data, card_number="188347080", name=None), "J-2")) is None
    assert f.insert_holder({"id": "J-3", "kind": "read"}) is None
    assert f.insert_holder(issue_job(card_data, "J-4", BANK)) is None
    assert f.proc is None and len(files(cards)) == 5  # nothing made, nothing inserted


# --- through pcscd ------------------------------------------------------------------------------

@pytest.mark.hardware
def test_a_pin_change_on_the_demo_station_needs_no_card_by_hand(platform, pcscd, tmp_path, card_data):
    """Two runs of ``python -m hardware station --virtual-cards DIR --once`` (demo PIN pad: old
    000000, new 123456): the first makes the holder's issued card and changes its PIN; the
    second finds the same card, whose PIN is no longer 000000."""
    assert reader.slot_status(READER)[0] != "present", "reader slot 1 is not free"
    cards = tmp_path / "cards"
    bank = made_up_bank_card_number(card_data["card_number"])
    platform.jobs.append(holder_job("change_pin", card_data, "J-P1"))
    assert run_station(platform, tmp_path, "--virtual-cards", str(cards)) == 0
    result = platform.final["J-P1"]
    assert result["ok"] and result["pin_changed"] is True, result["error"]
    assert result["card"]["ssn"] == card_data["ssn"] and result["card"]["card_number"] == card_data["card_number"]
    assert result["bank_card_number"] == bank
    assert files(cards) == [f"{bank}.json"]
    assert chip(cards / f"{bank}.json")["pin"] == "123456"
    assert reader.slot_status(READER)[0] == "empty"  # --once: the station pulled it on exit

    platform.jobs.append(holder_job("change_pin", card_data, "J-P2"))
    assert run_station(platform, tmp_path, "--virtual-cards", str(cards)) == 0
    error = platform.final["J-P2"]["error"]
    assert error["code"] == "PIN_WRONG" and error["tries_left"] == 2, error
    assert files(cards) == [f"{bank}.json"]  # the same card, not a new one
    state = chip(cards / f"{bank}.json")
    assert state["pin"] == "123456" and state["pin_tries_left"] == 2


@pytest.mark.hardware
def test_a_holders_card_keeps_its_state_between_jobs_and_issue_jobs_get_their_blank_card(
        platform, feeder, tmp_path, card_data):
    """One long-running demo station: region rewritten twice on the card it made, an issue job
    on its blank card in between, jobs on that newly issued card find it (no made-up card),
    a bank account given with the card data names the made card, a blocked card stays blocked."""
    cards = tmp_path / "cards"
    made = cards / f"{made_up_bank_card_number(card_data['card_number'])}.json"
    second = other_holder(card_data)
    third = dict(other_holder(card_data), card_number=profile.new_card_number(),
                 card_identifier=profile.make_card_identifier("350581", bytes(8)).hex(),
                 bank_card_number="6212261402000000015")

    platform.jobs.append(holder_job("rewrite_region", card_data, "J-R1", region=REGION))
    assert run_fed(platform, tmp_path, feeder) == 0
    result = platform.final["J-R1"]
    assert result["ok"] and result["region"] == REGION, result["error"]
    assert files(cards) == [made.name] and feeder.path == str(made)
    assert chip(made)["records"]["EF0D"] == {"2A": "2A03330212", "2B": "2B0420261207"}

    # An issue job: the blank card of its expected bank account, as before.
    platform.jobs.append(issue_job(second, "J-I", BANK))
    assert run_fed(platform, tmp_path, feeder) == 0
    result = platform.final["J-I"]
    assert result["ok"] and result["bank_card_number"] == BANK and result["card"]["ssn"] == second["ssn"], result["error"]
    assert files(cards) == sorted([made.name, f"{BANK}.json"])

    # A second move: the card made for J-R1 is found (holding the first region) and rewritten.
    moved_again = {"region_code": "330281", "moved_on": "2027-03-01"}
    platform.jobs.append(holder_job("rewrite_region", card_data, "J-R2", region=moved_again))
    assert run_fed(platform, tmp_path, feeder) == 0
    result = platform.final["J-R2"]
    assert result["ok"] and result["region"] == moved_again and result["card"]["insured_region"] == "330281"
    assert chip(made)["records"]["EF0D"] == {"2A": "2A03330281", "2B": "2B0420270301"}

    # The card issued by J-I is found by its card number: its PIN is changed, no card is made.
    platform.jobs.append(holder_job("change_pin", second, "J-P"))
    assert run_fed(platform, tmp_path, feeder) == 0
    result = platform.final["J-P"]
    assert result["ok"] and result["pin_changed"] and result["bank_card_number"] == BANK, result["error"]
    assert chip(cards / f"{BANK}.json")["pin"] == "123456"
    assert files(cards) == sorted([made.name, f"{BANK}.json"])

    # A bank account with the card data names the card made for it.
    platform.jobs.append(holder_job("reset_pin", third, "J-Z"))
    assert run_fed(platform, tmp_path, feeder) == 0
    result = platform.final["J-Z"]
    assert result["ok"] and result["bank_card_number"] == third["bank_card_number"], result["error"]
    assert f"{third['bank_card_number']}.json" in files(cards)

    # Blocked, the card stays blocked: a PIN change is refused before the PIN pad is asked.
    platform.jobs.append(holder_job("block", card_data, "J-B"))
    assert run_fed(platform, tmp_path, feeder) == 0
    assert platform.final["J-B"]["ok"] and platform.final["J-B"]["card"]["application_state"] == "blocked"
    feeder.close()  # taken out of the reader in between
    platform.jobs.append(holder_job("change_pin", card_data, "J-P3"))
    assert run_fed(platform, tmp_path, feeder) == 0
    assert platform.final["J-P3"]["error"]["code"] == "APPLICATION_BLOCKED"
    assert chip(made)["blocked"] is True and chip(made)["pin"] == profile.ISSUED_PIN


@pytest.mark.hardware
def test_incomplete_card_data_leaves_the_reader_as_it_is(platform, feeder, tmp_path, card_data):
    """A card made before the platform (chip data incomplete): no card is made up; the job
    fails with its own error once the card wait is over."""
    platform.jobs.append(holder_job("change_pin", dict(card_data, card_identifier=None, init_org=None), "J-P"))
    assert run_fed(platform, tmp_path, feeder, card_wait=0.5) == 0
    error = platform.final["J-P"]["error"]
    assert error["code"] == "NO_CARD" and error["retryable"] is True, error
    assert not os.path.exists(tmp_path / "cards") or files(tmp_path / "cards") == []
