"""Card station 制卡工作站 against a small local platform, with the real PC/SC stack.

The virtual card sits in reader slot 1 ("Virtual PCD 00 01") so these tests do not fight over
slot 0 with the other hardware tests.
"""
import base64
import io
import json
import os
import signal
import subprocess
import sys
import threading

import pytest
from PIL import Image

from hardware import errors, profile, reader
from hardware.__main__ import build_parser
from hardware.personalise import Journal, personalise, verify_card
from hardware.security import SimulatedSecurityModule
from hardware.station import PlatformGaveUpError, Spool
from hardware.virtual_card import create_blank
from tests.conftest import VirtualCardSlot
from tests.hardware.station_kit import (
    BANK,
    BANK_2,
    READER,
    ROOT,
    TOKEN,
    FakePlatform,
    cli_args,
    other_holder,
    read_card,
    run_station,
    station,
    wait_for,
)


@pytest.fixture
def slot(pcscd, tmp_path):
    """A blank semi-finished card in reader slot 1."""
    s = VirtualCardSlot(tmp_path / "card.json", slot=1).blank(BANK)
    s.insert()
    yield s
    s.pull()


def photo_b64(colour=(200, 30, 30)):
    buf = io.BytesIO()
    Image.new("RGB", (358, 441), colour).save(buf, "JPEG")
    return base64.b64encode(buf.getvalue()).decode()


def issue_job(card_data, job_id="J-0001", **extra):
    job = {"id": job_id, "kind": "issue", "attempt": 1, "card": card_data,
           "face": {"bank": "中国工商银行", "issuer": "福建省人力资源和社会保障厅", "photo": photo_b64()},
           "expected_bank_card_number": BANK}
    job.update(extra)
    return job


def spooled(tmp_path):
    return os.listdir(tmp_path / "spool" / "jobs")


# --- tests without a card -----------------------------------------------------------------------

def test_bad_token_stops_the_station_with_a_clear_message(platform, tmp_path, capsys):
    platform.jobs.append({"id": "J-1", "kind": "read"})
    assert run_station(platform, tmp_path, token="wrong") == 3
    err = capsys.readouterr().err
    assert "401" in err and "SSCARD_STATION_TOKEN" in err and "令牌" in err
    assert platform.requests == []  # rejected before anything was recorded


def test_missing_token_is_a_configuration_error(platform, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SSCARD_STATION_TOKEN", raising=False)
    assert run_station(platform, tmp_path, token=None) == 2
    assert "SSCARD_STATION_TOKEN" in capsys.readouterr().err


def test_token_from_the_environment(platform, tmp_path, monkeypatch):
    monkeypatch.setenv("SSCARD_STATION_TOKEN", TOKEN)
    assert run_station(platform, tmp_path, token=None) == 0  # no job: 204, exit
    assert [r[0] for r in platform.requests] == ["claim"]


def test_unacknowledged_result_is_resent_before_anything_else(platform, tmp_path):
    spool = Spool(str(tmp_path / "spool"))
    spool.save_job({"id": "J-9", "kind": "read"})
    spool.save_result("J-9", {"job_id": "J-9", "result_id": "r-123", "ok": True, "kind": "read"})
    spool.close()
    platform.jobs.append({"id": "J-9", "kind": "read"})  # still open on the platform
    assert run_station(platform, tmp_path) == 0
    kinds = [(r[0], r[1]) for r in platform.requests]
    assert kinds[0] == ("result", "J-9") and platform.results("J-9")[0]["result_id"] == "r-123"
    assert spooled(tmp_path) == []
    receipt = json.loads((tmp_path / "spool" / "done" / "J-9.json").read_text())
    assert receipt["result_id"] == "r-123" and "card" not in receipt


def test_platform_unreachable_keeps_the_result_and_exits(tmp_path):
    platform = FakePlatform()
    url = platform.url
    platform.stop()  # connection refused from now on
    args = build_parser().parse_args(["station", "--platform", url, "--station-id", "S1", "--token", TOKEN,
                                      "--spool", str(tmp_path / "spool"), "--queue", str(tmp_path / "q"),
                                      "--once", "--platform-wait", "0.5"])
    spool = Spool(str(tmp_path / "spool"))
    spool.save_job({"id": "J-5", "kind": "read"})
    spool.save_result("J-5", {"job_id": "J-5", "result_id": "r-5", "ok": True})
    spool.close()
    from hardware.station import main
    assert main(args) == 4
    assert Spool(str(tmp_path / "spool")).pending_results() == ["J-5"]


def test_one_station_per_spool(tmp_path):
    from hardware.station import SpoolLockedError
    first = Spool(str(tmp_path / "spool"))
    with pytest.raises(SpoolLockedError):
        Spool(str(tmp_path / "spool"))
    first.close()
    Spool(str(tmp_path / "spool")).close()


def test_unsupported_kind_and_invalid_data_are_failure_results(platform, tmp_path, card_data):
    platform.jobs.append({"id": "J-x", "kind": "format_disk"})
    platform.jobs.append(issue_job(dict(card_data, card_number="B7K334775"), job_id="J-y"))
    assert run_station(platform, tmp_path) == 0
    assert run_station(platform, tmp_path) == 0
    bad_kind, = platform.results("J-x")
    assert not bad_kind["ok"] and bad_kind["error"]["code"] == "BAD_JOB"
    bad_data, = platform.results("J-y")
    assert bad_data["error"]["code"] == "INVALID_DATA" and not bad_data["error"]["retryable"]
    assert "card_number" in bad_data["error"]["fields"] and "卡号" in bad_data["error"]["message_zh"]
    assert not (tmp_path / "queue").exists() or os.listdir(tmp_path / "queue") == []  # nothing printed


def test_job_with_an_unusable_id_is_refused_once(platform, tmp_path):
    platform.jobs.append({"id": "../../etc", "kind": "read"})
    assert run_station(platform, tmp_path) == 0
    result, = platform.results("..%2F..%2Fetc")  # quoted into one URL segment
    assert result["error"]["code"] == "BAD_JOB"
    assert spooled(tmp_path) == []


# --- issue jobs on the virtual card -------------------------------------------------------------

@pytest.mark.hardware
def test_issue_job_end_to_end(platform, slot, tmp_path, card_data):
    platform.jobs.append(issue_job(card_data))
    assert run_station(platform, tmp_path) == 0

    result, = platform.results("J-0001")
    assert result["ok"] and result["error"] is None and not result["resumed"]
    expected = profile.normalise(card_data)
    assert {k: result["card"][k] for k in expected} == expected
    assert result["bank_card_number"] == BANK and result["apdus"] > 0
    assert platform.progress_states("J-0001") == ["claimed", "checking_bank", "printing", "writing"]
    assert result["printed"]["path"] == str(tmp_path / "queue" / "J-0001.png")
    with Image.open(result["printed"]["path"]) as im:
        assert im.size == (1011, 638)

    # An independent read through the reader agrees with the platform's copy.
    info = read_card()
    assert {k: info.fields[k] for k in expected} == expected
    assert info.bank_card_number == BANK and not info.blocked
    # The spool holds no personal data once the platform has the result.
    assert spooled(tmp_path) == []
    assert json.loads((tmp_path / "spool" / "done" / "J-0001.json").read_text())["ok"] is True


@pytest.mark.hardware
def test_bank_card_mismatch_fails_and_writes_nothing(platform, slot, tmp_path, card_data):
    platform.jobs.append(issue_job(card_data, expected_bank_card_number="6217009999999999999"))
    assert run_station(platform, tmp_path) == 0

    result, = platform.results("J-0001")
    assert not result["ok"]
    assert result["error"]["code"] == "BANK_CARD_MISMATCH" and result["error"]["retryable"] is False
    assert "金融数据核对不符" in result["error"]["message_zh"]
    assert "6217009999999999999" not in json.dumps(result)  # masked
    assert not read_card().personalised
    assert not (tmp_path / "queue").exists() or os.listdir(tmp_path / "queue") == []


@pytest.mark.hardware
def test_station_killed_mid_write_resumes_from_its_spool(platform, pcscd, tmp_path, card_data):
    card = VirtualCardSlot(tmp_path / "card.json", slot=1).blank(BANK)
    platform.jobs.append(issue_job(card_data))
    env = dict(os.environ, SSCARD_STATION_TOKEN=TOKEN, PYTHONPATH=ROOT)
    cmd = [sys.executable, "-m", "hardware", "station", *cli_args(platform, tmp_path)[1:]]
    journal = tmp_path / "spool" / "jobs" / "J-0001" / "journal.json"
    try:
        card.insert(["stall@UPDATE:3"])  # the card never answers the 3rd UPDATE RECORD
        with open(tmp_path / "station-1.log", "wb") as log:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                def stalled():
                    if not journal.exists():
                        return False
                    state = json.loads(journal.read_text())
                    return state["state"] == "writing" and len(state["written"]) == 2
                wait_for(stalled, what="the journal to show the stalled write")
            finally:
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
        assert platform.results() == []

        card.pull()    # take the stalled card out ...
        card.insert()  # ... and put it back, now healthy
        with open(tmp_path / "station-2.log", "wb") as log:
            rc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                timeout=120).returncode
        assert rc == 0, (tmp_path / "station-2.log").read_text()

        result, = platform.results("J-0001")  # exactly one result, and it is ok
        assert result["ok"] and result["resumed"]
        assert platform.progress_states("J-0001").count("printing") == 1  # the face printed once
        assert "resuming" in platform.progress_states("J-0001")
        with reader.connect(READER) as conn:
            assert verify_card(conn, card_data) == []
        log_text = (tmp_path / "station-1.log").read_text() + (tmp_path / "station-2.log").read_text()
        assert card_data["ssn"] not in log_text and profile.mask(card_data["ssn"]) in log_text
    finally:
        card.pull()


@pytest.mark.hardware
def test_card_pulled_mid_job_succeeds_when_it_comes_back(platform, pcscd, tmp_path, card_data):
    card = VirtualCardSlot(tmp_path / "card.json", slot=1).blank(BANK)
    platform.jobs.append(issue_job(card_data))
    outcome = {}
    worker = threading.Thread(
        target=lambda: outcome.update(rc=run_station(platform, tmp_path, "--card-wait", "60")))
    try:
        card.insert(["pull@UPDATE:2"])
        worker.start()
        wait_for(lambda: "waiting_for_card" in platform.progress_states("J-0001"), what="waiting_for_card")
        card.wait_gone()
        card.insert()
        worker.join(60)
        assert outcome.get("rc") == 0
        result, = platform.results("J-0001")
        assert result["ok"] and result["resumed"]
        assert read_card().fields["ssn"] == card_data["ssn"]
    finally:
        if worker.is_alive():
            worker.join(60)
        card.pull()


@pytest.mark.hardware
def test_card_pulled_and_not_back_by_the_deadline_is_a_retryable_failure(platform, pcscd, tmp_path, card_data):
    card = VirtualCardSlot(tmp_path / "card.json", slot=1).blank(BANK)
    platform.jobs.append(issue_job(card_data))
    try:
        card.insert(["pull@UPDATE:2"])
        assert run_station(platform, tmp_path, "--card-wait", "2") == 0
        result, = platform.results("J-0001")
        assert not result["ok"] and result["error"]["retryable"] is True
        assert result["error"]["code"] in ("NO_CARD", "CARD_REMOVED")
        assert "waiting_for_card" in platform.progress_states("J-0001")

        # The platform hands the job out again (attempt 2): the half-written card completes.
        card.wait_gone()
        card.insert()
        platform.final.clear()
        platform.jobs[0]["attempt"] = 2
        assert run_station(platform, tmp_path) == 0
        assert platform.results("J-0001")[-1]["ok"]
        with reader.connect(READER) as conn:
            assert verify_card(conn, card_data) == []
    finally:
        card.pull()


@pytest.mark.hardware
def test_result_is_resent_until_the_platform_acknowledges_it(platform, slot, tmp_path):
    platform.jobs.append({"id": "J-r", "kind": "read", "attempt": 1})
    platform.result_status = [503, 503, 200]
    s = station(platform, tmp_path, backoff=(0.05, 0.1))
    try:
        assert s.run(once=True) == 0
    finally:
        s.spool.close()
    posts = platform.results("J-r")
    assert len(posts) == 3 and len({p["result_id"] for p in posts}) == 1
    assert posts[0]["ok"] and posts[0]["bank_card_number"] == BANK
    assert spooled(tmp_path) == []


@pytest.mark.hardware
def test_platform_gone_then_back_delivers_the_kept_result(platform, slot, tmp_path):
    platform.jobs.append({"id": "J-r", "kind": "read"})
    platform.result_status = [503] * 1000
    first = station(platform, tmp_path, backoff=(0.05, 0.1), platform_wait=0.5)
    try:
        with pytest.raises(PlatformGaveUpError):
            first.run(once=True)
        assert first.spool.pending_results() == ["J-r"]  # kept, not lost
    finally:
        first.spool.close()
    platform.result_status = []
    again = station(platform, tmp_path)
    try:
        assert again.run(once=True) == 0
    finally:
        again.spool.close()
    assert platform.final["J-r"]["ok"] and spooled(tmp_path) == []


@pytest.mark.hardware
def test_job_cancelled_before_writing_leaves_the_card_blank(platform, slot, tmp_path, card_data):
    platform.cancel_on_claim = True
    platform.jobs.append(issue_job(card_data))
    assert run_station(platform, tmp_path) == 0
    assert platform.results() == []
    assert not read_card().personalised
    assert spooled(tmp_path) == [] and len(os.listdir(tmp_path / "spool" / "rejected")) == 1


@pytest.mark.hardware
def test_read_verify_reset_pin_and_block_jobs(platform, slot, tmp_path, card_data):
    with reader.connect(READER) as conn:
        personalise(conn, card_data, SimulatedSecurityModule(), Journal(job_id="setup"))
    holder = {"ssn": card_data["ssn"], "card_number": card_data["card_number"]}
    stranger = {"ssn": "11010519491231002X"}
    platform.jobs += [
        {"id": "J-read", "kind": "read"},
        {"id": "J-verify", "kind": "verify", "card": card_data},
        {"id": "J-verify-bad", "kind": "verify", "card": dict(card_data, name="林坤")},
        {"id": "J-pin", "kind": "reset_pin", "card": holder, "new_pin": "123456"},
        {"id": "J-block-wrong", "kind": "block", "card": stranger},
        {"id": "J-block", "kind": "block", "card": holder},
    ]
    for _ in platform.jobs:
        assert run_station(platform, tmp_path) == 0

    r = {job_id: platform.final[job_id] for job_id in platform.final}
    assert r["J-read"]["ok"] and r["J-read"]["card"]["ssn"] == card_data["ssn"]
    assert r["J-verify"]["ok"]
    assert r["J-verify-bad"]["error"]["code"] == "VERIFICATION_FAILED"
    assert list(r["J-verify-bad"]["error"]["fields"]) == ["name"]
    assert r["J-pin"]["ok"]
    assert r["J-block-wrong"]["error"]["code"] == "WRONG_CARD" and r["J-block-wrong"]["error"]["retryable"]
    assert r["J-block"]["ok"] and r["J-block"]["card"]["application_state"] == "blocked"
    assert read_card().blocked
    assert json.loads(open(slot.state_path).read())["pin"] == "123456"


@pytest.mark.hardware
def test_result_refused_with_409_is_kept_for_a_person(platform, slot, tmp_path):
    platform.jobs.append({"id": "J-c", "kind": "read"})
    platform.result_status = [409]
    assert run_station(platform, tmp_path) == 0
    assert len(platform.results("J-c")) == 1  # not re-sent
    kept, = os.listdir(tmp_path / "spool" / "rejected")
    assert kept.startswith("J-c-")
    reason = json.loads((tmp_path / "spool" / "rejected" / kept / "rejected.json").read_text())
    assert reason["reason"] == "cancelled"
    assert (tmp_path / "spool" / "rejected" / kept / "result.json").exists()


@pytest.mark.hardware
def test_killed_after_the_write_finished_reverifies_before_reporting(platform, slot, tmp_path, card_data):
    """Journal "done" but no result yet (killed in between): the card is read back again."""
    job = issue_job(card_data)
    spool = Spool(str(tmp_path / "spool"))
    spool.save_job(job)
    journal = Journal.open(spool.path("J-0001", "journal.json"), "J-0001")
    with reader.connect(READER) as conn:
        personalise(conn, card_data, SimulatedSecurityModule(), journal)
    spool.close()
    platform.jobs.append(job)

    assert run_station(platform, tmp_path) == 0
    result, = platform.results("J-0001")
    assert result["ok"] and result["resumed"] and result["apdus"] > 0
    assert result["card"]["ssn"] == card_data["ssn"]
    assert platform.progress_states("J-0001") == ["resuming"]  # nothing printed or written again


def ef06_record(state_file, key):
    """A holder record as the virtual card keeps it in its state file (TLV hex)."""
    records = json.loads(open(state_file, encoding="utf-8").read())["records"]["EF06"]
    return records.get(f"{profile.BY_KEY[key].tag:02X}")


def nothing_printed(tmp_path):
    return not (tmp_path / "queue").exists() or os.listdir(tmp_path / "queue") == []


# --- holder check before printing ---------------------------------------------------------------

@pytest.mark.hardware
def test_card_of_another_holder_is_refused_before_printing(platform, slot, tmp_path, card_data):
    stranger = other_holder(card_data)
    with reader.connect(READER) as conn:
        personalise(conn, stranger, SimulatedSecurityModule(), Journal(job_id="setup"))
    platform.jobs.append(issue_job(card_data))
    assert run_station(platform, tmp_path) == 0

    result, = platform.results("J-0001")
    assert not result["ok"] and result["error"]["code"] == "CARD_ALREADY_PERSONALISED"
    assert result["error"]["retryable"] is False
    assert "printing" not in platform.progress_states("J-0001")
    assert nothing_printed(tmp_path)
    info = read_card()
    assert info.fields["ssn"] == stranger["ssn"] and info.fields["name"] == stranger["name"]


# --- virtual blank cards (--virtual-cards) ------------------------------------------------------

def test_virtual_cards_need_a_virtual_reader(platform, tmp_path, capsys):
    platform.jobs.append({"id": "J-1", "kind": "read"})
    rc = run_station(platform, tmp_path, "--virtual-cards", str(tmp_path / "cards"), "--reader", "ACS ACR39U 00 00")
    assert rc == 2
    err = capsys.readouterr().err
    assert "--virtual-cards" in err and "Virtual PCD 00 01" in err and "ACS ACR39U" in err
    assert platform.requests == []


@pytest.mark.hardware
def test_virtual_cards_swap_the_blank_card_per_issue_job(platform, pcscd, tmp_path, card_data):
    """The station as the demo runs it: a long-running process that puts the assigned blank
    card in the reader for each issue job and pulls the last one when it is stopped."""
    assert reader.slot_status(READER)[0] != "present", "reader slot 1 is not free"
    second = other_holder(card_data)
    platform.jobs += [issue_job(card_data, job_id="J-A", expected_bank_card_number=BANK),
                      issue_job(second, job_id="J-B", expected_bank_card_number=BANK_2),
                      {"id": "J-R", "kind": "read"}]  # no bank card number: the current card
    cards = tmp_path / "cards"
    env = dict(os.environ, SSCARD_STATION_TOKEN=TOKEN, PYTHONPATH=ROOT)
    cmd = [sys.executable, "-m", "hardware", "station", *cli_args(platform, tmp_path)[1:-1],
           "--poll", "0.2", "--virtual-cards", str(cards)]
    log_path = tmp_path / "station.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: len(platform.final) == 3 or proc.poll() is not None, timeout=90,
                     what="three results")
            assert len(platform.final) == 3, log_path.read_text()
            # The last issued card stays in the reader (the clerk hands it over).
            info = read_card()
            assert info.bank_card_number == BANK_2 and info.fields["ssn"] == second["ssn"]
        finally:
            proc.send_signal(signal.SIGTERM)  # the launcher's way of stopping the station
            proc.wait(30)
    assert reader.slot_status(READER)[0] == "empty", log_path.read_text()  # the card left with it

    a, b, r = (platform.final[j] for j in ("J-A", "J-B", "J-R"))
    assert a["ok"] and b["ok"] and r["ok"], log_path.read_text()
    assert a["bank_card_number"] == BANK and a["card"]["ssn"] == card_data["ssn"]
    assert b["bank_card_number"] == BANK_2 and b["card"]["ssn"] == second["ssn"]
    assert r["bank_card_number"] == BANK_2 and r["card"]["ssn"] == second["ssn"]
    assert sorted(os.listdir(cards)) == [f"{BANK}.json", f"{BANK_2}.json"]
    for number, holder in ((BANK, card_data), (BANK_2, second)):
        state_file = cards / f"{number}.json"
        assert json.loads(state_file.read_text())["bank"]["5A"].rstrip("F") == number
        for key in ("ssn", "name"):
            assert ef06_record(state_file, key) == profile.tlv(profile.BY_KEY[key], holder[key]).hex().upper()
    assert sorted(os.listdir(tmp_path / "queue")) == ["J-A.png", "J-B.png"]

    # Put card A back: it reads as its holder's card.
    card_a = VirtualCardSlot(cards / f"{BANK}.json", slot=1).insert()
    try:
        with reader.connect(READER) as conn:
            assert verify_card(conn, card_data) == []
    finally:
        card_a.pull()


@pytest.mark.hardware
def test_virtual_cards_resumed_job_finds_its_half_written_card(platform, pcscd, tmp_path, card_data):
    cards = tmp_path / "cards"
    cards.mkdir()
    state_file = cards / f"{BANK}.json"
    create_blank(str(state_file), BANK)
    job = issue_job(card_data)
    spool = Spool(str(tmp_path / "spool"))
    card = VirtualCardSlot(state_file, slot=1)
    try:
        # A station was writing this card when the card vanished (and the station stopped).
        spool.save_job(job)
        journal = Journal.open(spool.path("J-0001", "journal.json"), "J-0001")
        card.insert(["pull@UPDATE:3"])
        with reader.connect(READER) as conn, pytest.raises(errors.HardwareError):
            personalise(conn, card_data, SimulatedSecurityModule(), journal)
        card.wait_gone()
    finally:
        card.pull()
        spool.close()
    assert journal.state == "writing" and len(journal.written) == 2
    state = json.loads(state_file.read_text())
    state["pin"] = "135790"  # a mark a re-blanked card would lose
    state_file.write_text(json.dumps(state))
    platform.jobs.append(job)

    assert run_station(platform, tmp_path, "--virtual-cards", str(cards)) == 0
    result, = platform.results("J-0001")
    assert result["ok"] and result["resumed"] and result["bank_card_number"] == BANK
    assert "resuming" in platform.progress_states("J-0001")
    assert os.listdir(cards) == [f"{BANK}.json"]
    state = json.loads(state_file.read_text())
    assert state["pin"] == "135790"  # the same card file, not a new blank
    assert ef06_record(state_file, "ssn") == profile.tlv(profile.BY_KEY["ssn"], card_data["ssn"]).hex().upper()
    assert reader.slot_status(READER)[0] == "empty"  # --once exit pulled the card
