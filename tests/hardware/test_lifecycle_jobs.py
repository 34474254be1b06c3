"""Card-station jobs on a card in use: ``change_pin`` (自助终端修改密码) and ``rewrite_region``
(跨区域流动：参保地写入), through pcscd and the virtual card in reader slot 1.

The holder's card is made as the virtual card keeps an issued card (its state file), so each
case starts in milliseconds; everything after that goes through the real PC/SC stack.

A killed station is simulated in-process: its platform client raises ``Killed`` (not an
Exception, so nothing in the station catches it) when the station notices the pulled card and
would wait for it. The spool then holds the job and its journal and no result, as after a
SIGKILL; a new Station on the same spool resumes (one real SIGKILL case runs too).
"""
import json
import os
import signal
import subprocess
import sys
import threading

import pytest

from hardware import errors, profile, reader
from hardware.card import SocialSecurityCard
from hardware.pinpad import ConsolePinPad, PinEntryError, ScriptedPinPad
from hardware.protocol import KINDS
from hardware.region import RegionJournal, rewrite_region
from hardware.security import SimulatedSecurityModule
from hardware.station import PlatformClient, Spool
from hardware.station.cli import pin_pad_name
from hardware.station.runner import HANDLERS
from hardware.virtual_card import create_blank
from tests.conftest import VirtualCardSlot
from tests.hardware.station_kit import (
    BANK,
    BANK_2,
    READER,
    ROOT,
    TOKEN,
    cli_args,
    other_holder,
    read_card,
    run_station,
    station,
    wait_for,
)

REGION = {"region_code": "330212", "moved_on": "2026-12-07"}
EF0D_RECORDS = {"2A": "2A03330212", "2B": "2B0420261207"}  # tag 2A cn 3, tag 2B cn 4
# APDUs of a clean rewrite on a card never moved: bank account (4), EF05 + EF06 (17), EF0D (3),
# SSSE + GET CHALLENGE + EXTERNAL AUTHENTICATE + SELECT EF0D (5), 2 UPDATE RECORDs, read-back (3)
REWRITE_LENGTH = 34
FIRST_UPDATE = 30  # APDU index of the first UPDATE RECORD (the second is 31)
READ_ONLY_LENGTH = 27  # the same job when the chip already holds the region: nothing written
NEW_PIN = "802417"


class Killed(BaseException):
    """The station process dies (no except clause in the station catches a BaseException)."""


class DyingClient(PlatformClient):
    """The station is killed the moment it notices the card was pulled."""

    def progress(self, job_id, state, detail):
        if state == "waiting_for_card":
            raise Killed(state)
        return super().progress(job_id, state, detail)


# --- helpers ------------------------------------------------------------------------------------

def issued_card(path, card_data, bank=BANK, **state):
    """The holder's issued card in reader slot 1 (not inserted yet), as the virtual card keeps
    a personalised card; ``state`` overrides pin, pin_tries_left, blocked, records..."""
    create_blank(str(path), bank)
    data = json.loads(path.read_text())
    for ef, records in profile.encode_card(card_data).items():
        data["records"][f"EF{ef & 0xFF:02X}"] = {f"{f.tag:02X}": rec.hex().upper() for f, rec in records}
    data.update(state)
    path.write_text(json.dumps(data))
    return VirtualCardSlot(path, slot=1)


def chip(slot):
    """What the virtual card holds (its state file)."""
    return json.loads(open(slot.state_path, encoding="utf-8").read())


def holder(card_data):
    return {"ssn": card_data["ssn"], "card_number": card_data["card_number"]}


def pin_job(card_data, job_id="J-P", **extra):
    return {"id": job_id, "kind": "change_pin", "attempt": 1, "card": holder(card_data), **extra}


def region_job(card_data, job_id="J-R", region=REGION, **extra):
    return {"id": job_id, "kind": "rewrite_region", "attempt": 1, "card": holder(card_data),
            "region": region, **extra}


def run_once(platform, tmp_path, **kw):
    s = station(platform, tmp_path, **kw)
    try:
        return s.run(once=True)
    finally:
        s.spool.close()


def killed_mid_job(platform, tmp_path, **kw):
    """Run the station until it notices the pulled card, and kill it there."""
    s = station(platform, tmp_path, client=DyingClient, **kw)
    try:
        with pytest.raises(Killed):
            s.run(once=True)
    finally:
        s.spool.close()


def journal_of(tmp_path, job_id):
    path = tmp_path / "spool" / "jobs" / job_id / "journal.json"
    return json.loads(path.read_text()) if path.exists() else None


def holder_records(state):
    return {ef: state["records"][ef] for ef in ("EF05", "EF06")}


def verify_pin(pin):
    with reader.connect(READER) as conn:
        SocialSecurityCard(conn).verify_pin(pin)


@pytest.fixture
def card(pcscd, tmp_path, card_data):
    """The holder's issued card (PIN 000000, 3 tries), inserted in reader slot 1."""
    slot = issued_card(tmp_path / "card.json", card_data)
    slot.insert()
    yield slot
    slot.pull()


def test_the_protocol_has_the_two_kinds_and_the_station_their_handlers():
    assert KINDS == ("issue", "read", "verify", "block", "reset_pin", "change_pin", "rewrite_region")
    assert set(HANDLERS) == set(KINDS)
    assert HANDLERS["change_pin"] == "_change_pin" and HANDLERS["rewrite_region"] == "_rewrite_region"


# --- change_pin: the PIN pad --------------------------------------------------------------------

def test_console_pin_pad_asks_the_new_pin_twice_without_echo():
    answers = iter(["000000", NEW_PIN, NEW_PIN])
    prompts = []
    out = open(os.devnull, "w")
    pad = ConsolePinPad(getpass=lambda prompt: prompts.append(prompt) or next(answers), out=out)
    assert pad.read_pins({"card": {"ssn": "35058119900307123X"}}) == ("000000", NEW_PIN)
    assert len(prompts) == 3 and "原密码" in prompts[0] and "再次" in prompts[2]

    differ = iter(["000000", NEW_PIN, "802418"])
    with pytest.raises(PinEntryError) as e:
        ConsolePinPad(getpass=lambda prompt: next(differ), out=out).read_pins({})
    assert "不一致" in e.value.zh and "differ" in e.value.en

    def cancelled(prompt):
        raise EOFError
    with pytest.raises(PinEntryError) as e:
        ConsolePinPad(getpass=cancelled, out=out).read_pins({})
    assert "取消" in e.value.zh
    out.close()


def test_the_station_command_line_chooses_the_pin_pad():
    from hardware.__main__ import build_parser
    parse = build_parser().parse_args
    base = ["station", "--platform", "http://x", "--station-id", "S1"]
    assert pin_pad_name(parse(base)) == "console"
    assert pin_pad_name(parse(base + ["--virtual-cards", "/tmp/c"])) == "demo"
    assert pin_pad_name(parse(base + ["--virtual-cards", "/tmp/c", "--pin-pad", "console"])) == "console"
    assert pin_pad_name(parse(base + ["--pin-pad", "demo"])) == "demo"
    with pytest.raises(SystemExit):
        parse(base + ["--pin-pad", "keyboard"])
    assert ScriptedPinPad().read_pins({}) == ("000000", "123456")  # the demo's answers


# --- change_pin on the card ---------------------------------------------------------------------

@pytest.mark.hardware
def test_change_pin(platform, card, tmp_path, card_data):
    platform.jobs.append(pin_job(card_data))
    pad = ScriptedPinPad("000000", NEW_PIN)
    assert run_once(platform, tmp_path, pin_pad=pad) == 0

    result, = platform.results("J-P")
    assert result["ok"] and result["error"] is None and result["pin_changed"] is True
    assert result["card"]["ssn"] == card_data["ssn"] and result["bank_card_number"] == BANK
    assert not result["resumed"] and pad.calls == 1
    assert platform.progress_states("J-P") == ["claimed", "waiting_for_pin", "changing_pin"]
    verify_pin(NEW_PIN)
    with pytest.raises(errors.WrongPinError):
        verify_pin("000000")
    verify_pin(NEW_PIN)  # (resets the try counter)
    assert chip(card)["pin_tries_left"] == profile.PIN_TRIES
    # The PINs went nowhere: not to the platform, not into the spool.
    assert NEW_PIN not in json.dumps(platform.requests, ensure_ascii=False)
    for folder, _, files in os.walk(tmp_path / "spool"):
        for name in files:
            assert NEW_PIN not in open(os.path.join(folder, name), encoding="utf-8", errors="replace").read()


@pytest.mark.hardware
def test_change_pin_with_the_demo_pin_pad_of_the_command_line(platform, card, tmp_path, card_data):
    platform.jobs.append(pin_job(card_data))
    assert run_station(platform, tmp_path, "--pin-pad", "demo") == 0
    assert platform.final["J-P"]["ok"] and platform.final["J-P"]["pin_changed"] is True
    verify_pin("123456")


@pytest.mark.hardware
def test_wrong_old_pin_says_how_many_tries_are_left_and_changes_nothing(platform, card, tmp_path, card_data):
    platform.jobs.append(pin_job(card_data))
    assert run_once(platform, tmp_path, pin_pad=ScriptedPinPad("111111", NEW_PIN)) == 0

    result, = platform.results("J-P")
    assert not result["ok"] and "pin_changed" not in result
    error = result["error"]
    assert error["code"] == "PIN_WRONG" and error["tries_left"] == 2 and error["retryable"] is False
    assert "原密码错误" in error["message_zh"] and "还可尝试 2 次" in error["message_zh"]
    assert "Wrong old PIN" in error["message_en"] and "2 tries left" in error["message_en"]
    state = chip(card)
    assert state["pin"] == "000000" and state["pin_tries_left"] == 2

    platform.final.clear()  # the holder tries again, wrong again: 1 try left
    assert run_once(platform, tmp_path, pin_pad=ScriptedPinPad("222222", NEW_PIN)) == 0
    assert platform.results("J-P")[-1]["error"]["tries_left"] == 1


@pytest.mark.hardware
@pytest.mark.parametrize("tries_left", [0, 1])
def test_blocked_pin_sends_the_holder_to_the_counter(platform, pcscd, tmp_path, card_data, tries_left):
    """0: the card answers 6983 at once; 1: the wrong PIN spends the last try (63C0)."""
    slot = issued_card(tmp_path / "card.json", card_data, pin_tries_left=tries_left).insert()
    try:
        platform.jobs.append(pin_job(card_data))
        assert run_once(platform, tmp_path, pin_pad=ScriptedPinPad("111111", NEW_PIN)) == 0
        error = platform.final["J-P"]["error"]
        assert error["code"] == "PIN_BLOCKED" and error["tries_left"] == 0 and not error["retryable"]
        assert "密码已锁定" in error["message_zh"] and "身份证" in error["message_zh"]
        assert "窗口" in error["message_zh"] and "重置" in error["message_zh"]
        assert "blocked" in error["message_en"] and "counter" in error["message_en"]
        assert chip(slot)["pin"] == "000000" and chip(slot)["pin_tries_left"] == 0
    finally:
        slot.pull()


@pytest.mark.hardware
def test_change_pin_refuses_a_card_whose_application_is_blocked(platform, pcscd, tmp_path, card_data):
    slot = issued_card(tmp_path / "card.json", card_data, blocked=True, pin_tries_left=2).insert()
    try:
        platform.jobs.append(pin_job(card_data))
        pad = ScriptedPinPad("000000", NEW_PIN)
        assert run_once(platform, tmp_path, pin_pad=pad) == 0
        error = platform.final["J-P"]["error"]
        assert error["code"] == "APPLICATION_BLOCKED" and not error["retryable"]
        assert "社保应用已锁定" in error["message_zh"] and "不能修改密码" in error["message_zh"]
        assert "blocked" in error["message_en"] and "PIN cannot be changed" in error["message_en"]
        assert pad.calls == 0  # the holder was not even asked
        assert chip(slot)["pin"] == "000000" and chip(slot)["pin_tries_left"] == 2
    finally:
        slot.pull()


@pytest.mark.hardware
def test_change_pin_refuses_another_persons_card(platform, card, tmp_path, card_data):
    chip_before = chip(card)
    platform.jobs.append(pin_job(other_holder(card_data)))
    pad = ScriptedPinPad("000000", NEW_PIN)
    assert run_once(platform, tmp_path, pin_pad=pad) == 0
    error = platform.final["J-P"]["error"]
    assert error["code"] == "WRONG_CARD" and "不是该持卡人的卡" in error["message_zh"]
    assert pad.calls == 0 and chip(card) == chip_before


@pytest.mark.hardware
@pytest.mark.parametrize("old,new", [("000000", "12345"), ("000000", "1234567"), ("000000", "12345a"),
                                     ("000000", ""), ("00000", NEW_PIN)])
def test_a_malformed_pin_is_refused_before_any_try_is_spent(platform, pcscd, tmp_path, card_data, old, new):
    """Tries at 2: a VERIFY of the old PIN, right or wrong, would move the counter."""
    slot = issued_card(tmp_path / "card.json", card_data, pin_tries_left=2).insert()
    try:
        platform.jobs.append(pin_job(card_data))
        assert run_once(platform, tmp_path, pin_pad=ScriptedPinPad(old, new)) == 0
        error = platform.final["J-P"]["error"]
        assert error["code"] == "PIN_INVALID" and error["retryable"] is True
        assert "6 位数字" in error["message_zh"] and "no try was spent" in error["message_en"]
        assert "changing_pin" not in platform.progress_states("J-P")
        assert chip(slot)["pin"] == "000000" and chip(slot)["pin_tries_left"] == 2
    finally:
        slot.pull()


def test_change_pin_on_a_station_without_pin_pad(platform, tmp_path, card_data):
    platform.jobs.append(pin_job(card_data))
    assert run_once(platform, tmp_path, card_wait=0.5) == 0
    assert platform.final["J-P"]["error"]["code"] == "NO_PIN_PAD"


@pytest.mark.hardware
@pytest.mark.parametrize("fault", ["pull@VERIFY:1", "pull-after@VERIFY:1", "pull@CHANGE_PIN:1",
                                   "pull-after@CHANGE_PIN:1", "pull@VERIFY:2", "pull-after@VERIFY:2"])
def test_change_pin_interrupted_then_resumed(platform, pcscd, tmp_path, card_data, fault):
    """Pulled before or after the card executed VERIFY old, CHANGE PIN or VERIFY new, with the
    station killed there: the resumed job finds out whether the change landed."""
    slot = issued_card(tmp_path / "card.json", card_data)
    platform.jobs.append(pin_job(card_data))
    try:
        slot.insert([fault])
        killed_mid_job(platform, tmp_path, pin_pad=ScriptedPinPad("000000", NEW_PIN))
        assert platform.results() == []
        assert journal_of(tmp_path, "J-P")["state"] != "done"
        slot.wait_gone()
        slot.insert()
        assert run_once(platform, tmp_path, pin_pad=ScriptedPinPad("000000", NEW_PIN)) == 0
        result, = platform.results("J-P")
        assert result["ok"] and result["pin_changed"] and result["resumed"], result["error"]
        assert chip(slot)["pin"] == NEW_PIN and chip(slot)["pin_tries_left"] == profile.PIN_TRIES
    finally:
        slot.pull()


# --- rewrite_region -----------------------------------------------------------------------------

def test_a_card_never_moved_is_insured_where_it_was_issued(card_data):
    from hardware.card import CardInfo
    fields = profile.normalise(card_data)
    info = CardInfo(fields, BANK, "3B", False)
    assert info.as_dict()["insured_region"] == "350581" and info.as_dict()["moved_on"] == ""
    moved = CardInfo(fields, BANK, "3B", False, {"insured_region": "330212", "moved_on": "20261207"})
    assert moved.as_dict()["insured_region"] == "330212" and moved.as_dict()["moved_on"] == "20261207"
    assert moved.as_dict()["region"] == "350581"  # the issuing region stays the card's


@pytest.mark.hardware
def test_rewrite_region(platform, card, tmp_path, card_data):
    before = chip(card)
    assert read_card().as_dict()["insured_region"] == "350581"
    platform.jobs.append(region_job(card_data))
    assert run_once(platform, tmp_path) == 0

    result, = platform.results("J-R")
    assert result["ok"] and result["error"] is None and not result["resumed"]
    assert result["region"] == REGION
    assert result["card"]["insured_region"] == "330212" and result["card"]["moved_on"] == "20261207"
    assert result["card"]["region"] == "350581" and result["card"]["ssn"] == card_data["ssn"]
    assert result["apdus"] == REWRITE_LENGTH
    assert platform.progress_states("J-R") == ["claimed", "rewriting_region"]
    after = chip(card)
    assert after["records"]["EF0D"] == EF0D_RECORDS
    assert holder_records(after) == holder_records(before)  # EF05/EF06 untouched
    info = read_card().as_dict()  # an independent read
    assert (info["insured_region"], info["moved_on"]) == ("330212", "20261207")

    # Moving on again later (another job): both records are rewritten.
    platform.jobs.append(region_job(card_data, job_id="J-R2",
                                    region={"region_code": "330281", "moved_on": "2027-03-01"}))
    assert run_once(platform, tmp_path) == 0
    assert platform.final["J-R2"]["region"] == {"region_code": "330281", "moved_on": "2027-03-01"}
    assert chip(card)["records"]["EF0D"] == {"2A": "2A03330281", "2B": "2B0420270301"}
    assert holder_records(chip(card)) == holder_records(before)


@pytest.mark.hardware
def test_rewrite_region_of_a_card_that_already_holds_it_writes_nothing(platform, pcscd, tmp_path, card_data):
    """E.g. the platform hands the job out again after the result of a finished one was lost."""
    slot = issued_card(tmp_path / "card.json", card_data)
    state = chip(slot)
    state["records"]["EF0D"] = dict(EF0D_RECORDS)
    open(slot.state_path, "w").write(json.dumps(state))
    slot.insert()
    try:
        platform.jobs.append(region_job(card_data))
        assert run_once(platform, tmp_path) == 0
        result = platform.final["J-R"]
        assert result["ok"] and result["region"] == REGION and result["apdus"] == READ_ONLY_LENGTH
    finally:
        slot.pull()


def _landed(fault):
    """How many of the two UPDATE RECORDs (APDUs 30, 31) the card executed before vanishing."""
    action, n = fault.split("@")
    n = int(n)
    return sum(1 for i in (FIRST_UPDATE, FIRST_UPDATE + 1) if i < n or (action == "pull-after" and i == n))


@pytest.mark.hardware
@pytest.mark.parametrize("fault", [f"{action}@{n}" for action in ("pull", "pull-after")
                                   for n in range(1, REWRITE_LENGTH + 1)])
def test_rewrite_region_pulled_at_any_apdu_resumes_and_reports_only_verified(platform, pcscd, tmp_path,
                                                                            card_data, fault):
    slot = issued_card(tmp_path / "card.json", card_data)
    before = chip(slot)
    platform.jobs.append(region_job(card_data))
    try:
        slot.insert([fault])
        killed_mid_job(platform, tmp_path)
        assert platform.results() == []  # nothing reported before the resume, certainly not ok
        journal = journal_of(tmp_path, "J-R")
        assert journal["state"] in ("new", "writing", "verifying")
        slot.wait_gone()
        landed = chip(slot)["records"].get("EF0D", {})
        assert len(landed) == _landed(fault)

        slot.insert()  # the clerk puts the same card back; the station starts again
        assert run_once(platform, tmp_path) == 0
        result, = platform.results("J-R")
        assert result["ok"] and result["resumed"] and result["region"] == REGION, result["error"]
        assert "resuming" in platform.progress_states("J-R")
        # records already on the chip were not written again
        assert result["apdus"] == (READ_ONLY_LENGTH if _landed(fault) == 2 else REWRITE_LENGTH - _landed(fault))
        after = chip(slot)
        assert after["records"]["EF0D"] == EF0D_RECORDS
        assert holder_records(after) == holder_records(before)
    finally:
        slot.pull()


def test_the_crash_cases_cover_every_apdu_of_a_clean_rewrite():
    """``test_rewrite_region`` checks a clean rewrite takes REWRITE_LENGTH APDUs; the crash
    cases above are generated from that number."""
    assert _landed("pull@30") == 0 and _landed("pull-after@30") == 1 and _landed("pull@32") == 2


@pytest.mark.hardware
@pytest.mark.parametrize("fault", ["pull@UPDATE:1", "pull-after@UPDATE:2"])
def test_rewrite_region_waits_for_the_pulled_card_in_the_same_run(platform, pcscd, tmp_path, card_data, fault):
    slot = issued_card(tmp_path / "card.json", card_data)
    platform.jobs.append(region_job(card_data))
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(rc=run_once(platform, tmp_path, card_wait=60)))
    try:
        slot.insert([fault])
        worker.start()
        wait_for(lambda: "waiting_for_card" in platform.progress_states("J-R"), what="waiting_for_card")
        assert platform.results() == []
        slot.wait_gone()
        slot.insert()
        worker.join(60)
        assert outcome.get("rc") == 0
        result, = platform.results("J-R")
        assert result["ok"] and result["resumed"] and result["region"] == REGION
        assert chip(slot)["records"]["EF0D"] == EF0D_RECORDS
    finally:
        if worker.is_alive():
            worker.join(60)
        slot.pull()


@pytest.mark.hardware
def test_rewrite_region_waits_for_the_original_card_when_another_is_inserted(platform, pcscd, tmp_path,
                                                                             card_data):
    """Pulled half-way, then the holder's other card (another bank account) goes in: refused
    and left untouched; the job ends on the original card."""
    original = issued_card(tmp_path / "card.json", card_data)
    other = issued_card(tmp_path / "other.json", dict(card_data, card_number=profile.new_card_number()),
                        bank=BANK_2)
    other_before = chip(other)
    platform.jobs.append(region_job(dict(card_data, card_number="")))  # any card of the holder
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(rc=run_once(platform, tmp_path, card_wait=60)))
    try:
        original.insert(["pull-after@UPDATE:1"])
        worker.start()
        wait_for(lambda: "waiting_for_card" in platform.progress_states("J-R"), what="waiting_for_card")
        original.wait_gone()
        other.insert()
        wait_for(lambda: "waiting_for_original_card" in platform.progress_states("J-R"),
                 what="waiting_for_original_card")
        assert platform.results() == []
        other.pull()
        original.insert()
        worker.join(60)
        assert outcome.get("rc") == 0
        result, = platform.results("J-R")
        assert result["ok"] and result["bank_card_number"] == BANK and result["region"] == REGION
        assert chip(original)["records"]["EF0D"] == EF0D_RECORDS
        assert chip(other) == other_before  # nothing written on the other card
    finally:
        if worker.is_alive():
            worker.join(60)
        original.pull()
        other.pull()


@pytest.mark.hardware
def test_rewrite_region_refuses_another_persons_card(platform, card, tmp_path, card_data):
    before = chip(card)
    platform.jobs.append(region_job(other_holder(card_data)))
    assert run_once(platform, tmp_path) == 0
    error = platform.final["J-R"]["error"]
    assert error["code"] == "WRONG_CARD" and error["retryable"] is True
    assert chip(card) == before


@pytest.mark.hardware
def test_rewrite_region_refuses_a_blocked_card(platform, pcscd, tmp_path, card_data):
    slot = issued_card(tmp_path / "card.json", card_data, blocked=True).insert()
    try:
        platform.jobs.append(region_job(card_data))
        assert run_once(platform, tmp_path) == 0
        error = platform.final["J-R"]["error"]
        assert error["code"] == "APPLICATION_BLOCKED" and "参保地" in error["message_zh"]
        assert chip(slot)["records"].get("EF0D", {}) == {}
    finally:
        slot.pull()


@pytest.mark.hardware
def test_killed_after_the_rewrite_was_verified_reads_it_back_again(platform, card, tmp_path, card_data):
    """Journal ``done`` but no result (killed in between): re-read before reporting, and a chip
    that no longer holds the region is not reported as changed."""
    job = region_job(card_data)
    spool = Spool(str(tmp_path / "spool"))
    spool.save_job(job)
    journal = RegionJournal.open(spool.path("J-R", "journal.json"), "J-R")
    with reader.connect(READER) as conn:
        rewrite_region(conn, REGION["region_code"], REGION["moved_on"], SimulatedSecurityModule(), journal)
    spool.close()
    assert journal_of(tmp_path, "J-R")["state"] == "done"
    assert journal_of(tmp_path, "J-R")["card_number"] == card_data["card_number"]
    platform.jobs.append(job)

    assert run_once(platform, tmp_path) == 0
    result, = platform.results("J-R")
    assert result["ok"] and result["resumed"] and result["apdus"] == READ_ONLY_LENGTH
    assert platform.progress_states("J-R") == ["resuming", "rewriting_region"]

    # The same again, but the chip lost the date meanwhile: read back, found wrong, not ok.
    job2 = region_job(card_data, job_id="J-R2")
    spool = Spool(str(tmp_path / "spool"))
    spool.save_job(job2)
    journal = RegionJournal.open(spool.path("J-R2", "journal.json"), "J-R2")
    with reader.connect(READER) as conn:
        rewrite_region(conn, REGION["region_code"], REGION["moved_on"], SimulatedSecurityModule(), journal)
    spool.close()
    card.pull()
    state = chip(card)
    state["records"]["EF0D"]["2B"] = "2B0420261208"
    open(card.state_path, "w").write(json.dumps(state))
    card.insert()
    platform.jobs.append(job2)
    assert run_once(platform, tmp_path) == 0
    error = platform.final["J-R2"]["error"]
    assert error["code"] == "VERIFICATION_FAILED" and list(error["fields"]) == ["moved_on"]


@pytest.mark.hardware
def test_station_killed_mid_rewrite_resumes_from_its_spool(platform, pcscd, tmp_path, card_data):
    """A real SIGKILL while the card does not answer the second UPDATE RECORD."""
    slot = issued_card(tmp_path / "card.json", card_data)
    before = chip(slot)
    platform.jobs.append(region_job(card_data))
    env = dict(os.environ, SSCARD_STATION_TOKEN=TOKEN, PYTHONPATH=ROOT)
    cmd = [sys.executable, "-m", "hardware", "station", *cli_args(platform, tmp_path)[1:]]
    try:
        slot.insert(["stall@UPDATE:2"])
        with open(tmp_path / "station-1.log", "wb") as log:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_for(lambda: (journal_of(tmp_path, "J-R") or {}).get("written") == ["insured_region"],
                         what="the journal to show the first record written")
            finally:
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
        assert platform.results() == []
        slot.pull()
        slot.insert()
        with open(tmp_path / "station-2.log", "wb") as log:
            rc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                timeout=120).returncode
        assert rc == 0, (tmp_path / "station-2.log").read_text()
        result, = platform.results("J-R")
        assert result["ok"] and result["resumed"] and result["region"] == REGION
        assert "resuming" in platform.progress_states("J-R")
        assert chip(slot)["records"]["EF0D"] == EF0D_RECORDS
        assert holder_records(chip(slot)) == holder_records(before)
    finally:
        slot.pull()


BAD_REGIONS = [
    (None, "region"),
    ("330212", "region"),
    ({"moved_on": "2026-12-07"}, "region_code"),
    ({"region_code": "33021", "moved_on": "2026-12-07"}, "region_code"),
    ({"region_code": "3302120", "moved_on": "2026-12-07"}, "region_code"),
    ({"region_code": "33021A", "moved_on": "2026-12-07"}, "region_code"),
    ({"region_code": 330212, "moved_on": "2026-12-07"}, "region_code"),
    ({"region_code": "330212"}, "moved_on"),
    ({"region_code": "330212", "moved_on": "20261207"}, "moved_on"),
    ({"region_code": "330212", "moved_on": "2026-13-01"}, "moved_on"),
    ({"region_code": "330212", "moved_on": "2026-02-30"}, "moved_on"),
    ({"region_code": "330212", "moved_on": "2026-2-7"}, "moved_on"),
]


@pytest.mark.parametrize("region,field", BAD_REGIONS)
def test_a_malformed_rewrite_region_job_is_refused_before_the_card_is_touched(platform, tmp_path, card_data,
                                                                              region, field):
    """No card in the reader: a job that looked for one would fail with NO_CARD/NO_PCSCD."""
    platform.jobs.append(region_job(card_data, region=region))
    assert run_once(platform, tmp_path, card_wait=0.5) == 0
    error = platform.final["J-R"]["error"]
    assert error["code"] == "BAD_JOB" and error["retryable"] is False
    assert field in error["fields"] and "参保地" in error["message_zh"]
    assert platform.progress_states("J-R") == ["claimed"]


@pytest.mark.parametrize("which", [None, {}, {"card_number": "B7K334774"}])
def test_jobs_on_a_card_in_use_need_the_holder(platform, tmp_path, which):
    platform.jobs += [{"id": "J-R", "kind": "rewrite_region", "card": which, "region": REGION},
                      {"id": "J-P", "kind": "change_pin", "card": which}]
    for _ in platform.jobs:
        assert run_once(platform, tmp_path, card_wait=0.5, pin_pad=ScriptedPinPad()) == 0
    assert platform.final["J-R"]["error"]["code"] == "BAD_JOB"
    assert platform.final["J-P"]["error"]["code"] == "BAD_JOB"
