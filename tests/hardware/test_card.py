"""Card operations on the virtual card through pcscd, cross-checked with independent clients."""
import re
import subprocess

import pytest

from hardware import apdu, errors, profile, reader
from hardware.card import SocialSecurityCard
from hardware.personalise import CardAlreadyPersonalisedError, Journal, personalise, verify_card
from hardware.security import SimulatedSecurityModule

pytestmark = pytest.mark.hardware
SAM = SimulatedSecurityModule()


def _personalise(slot, data, **kw):
    with reader.connect(slot.reader) as conn:
        return personalise(conn, data, SAM, **kw)


def test_personalise_writes_reads_back_and_verifies(card_slot, card_data, tmp_path):
    journal = Journal.open(str(tmp_path / "job.json"), "job-1")
    result = _personalise(card_slot, card_data, journal=journal)
    assert result.ok and not result.resumed
    expected = profile.normalise(card_data)
    assert {k: result.card[k] for k in expected} == expected
    assert result.card["bank_card_number"] == "6217001234567890123"
    assert Journal.open(journal.path, "job-1").state == "done"
    assert len(journal.written) == len(profile.FIELDS)
    with reader.connect(card_slot.reader) as conn:
        assert verify_card(conn, card_data) == []
        assert verify_card(conn, dict(card_data, name="林坤")) == ["name"]


def _opensc(reader_index, *apdus):
    out = subprocess.run(["opensc-tool", "--reader", str(reader_index)] +
                         [a for x in apdus for a in ("--send-apdu", x)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _responses(output):
    """Data bytes of every 'Received' block of opensc-tool's output, in order."""
    blocks = re.split(r"Received \(SW1=0x[0-9a-f]{2}, SW2=0x[0-9a-f]{2}\):?", output)[1:]
    result = []
    for block in blocks:
        block = block.split("Sending:")[0]
        hexes = re.findall(r"^((?:[0-9A-F]{2} )+)", block, re.M)
        result.append(bytes.fromhex("".join(hexes)))
    return result


def test_independent_client_reads_what_was_written(card_slot, card_data):
    _personalise(card_slot, card_data)
    select = "00:A4:04:00:0F:" + ":".join(f"{b:02X}" for b in profile.SSSE_DF_NAME)
    reads = []
    for ef in (profile.EF05, profile.EF06):
        reads.append(f"00:A4:02:00:02:{ef >> 8:02X}:{ef & 0xFF:02X}")
        reads += [f"00:B2:{f.tag:02X}:00:{f.length + 2:02X}" for f in profile.fields_of(ef)]
    out = _opensc(0, select, *reads)
    records = [r for r in _responses(out) if r]
    expected = [rec for recs in profile.encode_card(card_data).values() for _, rec in recs]
    assert records[-len(expected):] == expected
    assert "林堃".encode("gbk") in records[-5]  # the name, as GBK bytes


def test_scriptor_reads_by_short_file_id(card_slot, card_data):
    _personalise(card_slot, card_data)
    script = "00 A4 04 00 0F " + profile.SSSE_DF_NAME.hex(" ").upper() + "\n" + \
             "00 B2 07 2C 0B\n"  # card number: tag 07 in SFI 5 -> P2 = (5 << 3) | 4
    out = subprocess.run(["scriptor", "-r", card_slot.reader], input=script,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert ("07 09 " + b"B7K334774".hex(" ").upper() + " 90 00 : Normal processing.") in out.stdout


def test_writes_are_refused_without_terminal_authentication(card_slot, card_data):
    rec = profile.tlv(profile.BY_KEY["name"], "张三")
    with reader.connect(card_slot.reader) as conn:
        card = SocialSecurityCard(conn)
        card.select_ssse()
        card.select_ef(profile.EF06)
        with pytest.raises(errors.SecurityStatusError) as e:
            card.write_record(rec)
        assert e.value.sw == 0x6982 and "终端认证" in e.value.zh
        assert card.read_records(profile.EF06)["name"] is None  # nothing landed


def test_wrong_security_module_key_fails_authentication(card_slot, card_data):
    wrong = SimulatedSecurityModule(bytes(16))
    with reader.connect(card_slot.reader) as conn:
        with pytest.raises(errors.AuthenticationFailedError):
            personalise(conn, card_data, wrong)
        assert SocialSecurityCard(conn).read().personalised is False


def test_records_of_wrong_length_or_unknown_tag_are_refused_by_the_card(card_slot):
    with reader.connect(card_slot.reader) as conn:
        card = SocialSecurityCard(conn)
        card.select_ssse()
        card.authenticate(SAM)
        card.select_ef(profile.EF06)
        with pytest.raises(errors.WrongLengthError):
            card.write_record(bytes([0x0A, 0x02, 0x31, 0x32]))
        with pytest.raises(errors.RecordNotFoundError):
            card.write_record(bytes([0x01, 0x01, 0x31]))  # tag 01 lives in EF05


def test_read_card_of_a_blank_card(card_slot):
    with reader.connect(card_slot.reader) as conn:
        info = SocialSecurityCard(conn).read()
    assert not info.personalised
    assert info.bank_card_number == "6217001234567890123"
    assert info.as_dict()["application_state"] == "active"


def test_standard_reader_string(card_slot, card_data):
    _personalise(card_slot, card_data)
    with reader.connect(card_slot.reader) as conn:
        info = SocialSecurityCard(conn).read()
    parts = info.standard_string().split("|")
    assert parts[:5] == ["350581", card_data["ssn"], "B7K334774", card_data["card_identifier"].upper(), "林堃"]
    assert parts[6:9] == ["3.00", "20261120", "20361120"]


def test_pin_issued_as_000000_and_blocked_after_three_wrong_tries(card_slot, card_data):
    _personalise(card_slot, card_data)
    with reader.connect(card_slot.reader) as conn:
        card = SocialSecurityCard(conn)
        card.verify_pin("000000")
        tries = []
        for _ in range(3):
            with pytest.raises(errors.WrongPinError) as e:
                card.verify_pin("123456")
            tries.append(e.value.tries_left)
        assert tries == [2, 1, 0]
        with pytest.raises(errors.PinBlockedError):
            card.verify_pin("000000")  # even the right PIN: blocked
    card_slot.pull()  # the block survives re-insertion (kept on the chip)
    card_slot.insert()
    with reader.connect(card_slot.reader) as conn:
        card = SocialSecurityCard(conn)
        with pytest.raises(errors.PinBlockedError):
            card.verify_pin("000000")
        card.reset_pin("246810", SAM)  # centre staff reset it
        card.verify_pin("246810")


def test_a_right_pin_resets_the_try_counter(card_slot, card_data):
    with reader.connect(card_slot.reader) as conn:
        card = SocialSecurityCard(conn)
        for _ in range(2):
            with pytest.raises(errors.WrongPinError):
                card.verify_pin("111111")
        card.verify_pin("000000")
        with pytest.raises(errors.WrongPinError) as e:
            card.verify_pin("111111")
        assert e.value.tries_left == 2


def test_change_pin(card_slot):
    with reader.connect(card_slot.reader) as conn:
        card = SocialSecurityCard(conn)
        with pytest.raises(errors.WrongPinError):
            card.change_pin("999999", "135790")
        card.change_pin("000000", "135790")
        with pytest.raises(errors.WrongPinError):
            card.verify_pin("000000")
        card.verify_pin("135790")
        with pytest.raises(errors.ProfileError):
            card.change_pin("135790", "12345")


def test_reset_pin_needs_terminal_authentication(card_slot):
    with reader.connect(card_slot.reader) as conn:
        card = SocialSecurityCard(conn)
        card.select_ssse()
        with pytest.raises(errors.SecurityStatusError):
            conn.command(apdu.reset_pin("111111"))


def test_block_application_for_a_lost_card(card_slot, card_data):
    _personalise(card_slot, card_data)
    with reader.connect(card_slot.reader) as conn:
        card = SocialSecurityCard(conn)
        card.select_ssse()
        with pytest.raises(errors.SecurityStatusError):
            conn.command(apdu.application_block())  # not without authentication
        card.block_application(SAM)
        card.block_application(SAM)  # idempotent
    with reader.connect(card_slot.reader) as conn:
        card = SocialSecurityCard(conn)
        info = card.read()  # a blocked card can still be read to identify its holder
        assert info.blocked and info.fields["ssn"] == card_data["ssn"]
        assert info.as_dict()["application_state"] == "blocked"
        with pytest.raises(errors.ApplicationBlockedError):
            card.verify_pin("000000")
        with pytest.raises(errors.ApplicationBlockedError):
            personalise(conn, card_data, SAM)


def test_another_persons_card_is_not_overwritten(card_slot, card_data):
    from tests.conftest import valid_ssn
    _personalise(card_slot, card_data)
    other = dict(card_data, ssn=valid_ssn("35058119851111002"), birth_date="19851111", name="王五")
    with pytest.raises(CardAlreadyPersonalisedError):
        _personalise(card_slot, other)
    result = _personalise(card_slot, other, allow_overwrite=True)  # e.g. moving region
    assert result.card["name"] == "王五"


def test_data_that_does_not_fit_is_refused_before_touching_the_card(card_slot, card_data):
    with reader.connect(card_slot.reader) as conn:
        before = conn.apdu_count
        with pytest.raises(errors.ProfileError):
            personalise(conn, dict(card_data, name="王𠮷"), SAM)
        assert conn.apdu_count == before


def test_written_data_survives_pull_and_reinsert(card_slot, card_data):
    _personalise(card_slot, card_data)
    card_slot.pull()
    card_slot.insert()
    with reader.connect(card_slot.reader) as conn:
        assert verify_card(conn, card_data) == []
