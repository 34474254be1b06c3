"""Reader driver through the real PC/SC stack: pcscd + vpcd + the virtual card."""
import os
import time
import subprocess
import sys

import pytest

from hardware import apdu, errors, lab, profile, reader

pytestmark = pytest.mark.hardware
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_lists_the_virtual_readers(pcscd):
    assert set(lab.VIRTUAL_READERS) <= set(reader.list_readers())


def test_no_card_in_the_reader_is_its_own_error(pcscd):
    with pytest.raises(errors.NoCardError) as e:
        reader.connect(lab.VIRTUAL_READERS[0], timeout=0.3)
    assert "没有卡片" in e.value.zh and "No card" in e.value.en


def test_unknown_reader_is_its_own_error(pcscd):
    with pytest.raises(errors.NoReaderError) as e:
        reader.connect("Reader that is not plugged in", timeout=0.1)
    assert "Virtual PCD 00 00" in e.value.en


def test_no_pcscd_is_its_own_error(tmp_path):
    """The PC/SC client library finds pcscd through PCSCLITE_CSOCK_NAME: point it nowhere."""
    env = dict(os.environ, PCSCLITE_CSOCK_NAME=str(tmp_path / "no-pcscd.comm"), PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-m", "hardware", "readers"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "pcscd 未运行" in out.stderr and "pcscd is not running" in out.stderr


def test_select_follows_61xx_with_get_response(card_slot):
    with reader.connect(card_slot.reader) as conn:
        raw_data, raw_sw = conn._transmit_once(apdu.select_df_name(profile.SSSE_DF_NAME))
        assert raw_sw >> 8 == 0x61 and raw_data == b""  # the card wants a GET RESPONSE
        data, sw = conn.transmit(apdu.select_df_name(profile.SSSE_DF_NAME))
    assert sw == 0x9000
    assert data[0] == 0x6F and profile.SSSE_DF_NAME in data  # the FCI


def test_wrong_le_is_resent_after_6cxx(card_slot):
    with reader.connect(card_slot.reader) as conn:
        conn.command(apdu.select_df_name(profile.BANK_AID))
        command = apdu.read_record(profile.BANK_CARD_TAG, 0, profile.BANK_CARD_SFI)
        _, raw_sw = conn._transmit_once(command)
        assert raw_sw >> 8 == 0x6C
        data = conn.command(command)
    assert data[0] == 0x5A and data[2:].hex().upper().startswith("6217001234567890123")


def test_unknown_commands_get_error_status_words(card_slot):
    with reader.connect(card_slot.reader) as conn:
        _, sw = conn.transmit(bytes.fromhex("00CA9F7F00"))  # GET DATA: not supported
        assert sw == 0x6D00
        _, sw = conn.transmit(bytes.fromhex("B0A4000000"))  # unknown class
        assert sw == 0x6E00
        with pytest.raises(errors.FileNotFoundOnCardError) as e:
            conn.command(apdu.select_df_name(b"1PAY.SYS.DDF01"))
        assert "6A82" in e.value.en


def test_card_pulled_during_a_command(pcscd, tmp_path):
    from tests.conftest import VirtualCardSlot
    slot = VirtualCardSlot(tmp_path / "card.json").blank().insert(faults=["pull@SELECT:1"])
    try:
        with reader.connect(slot.reader) as conn:
            with pytest.raises(errors.CardRemovedError) as e:
                conn.command(apdu.select_df_name(profile.SSSE_DF_NAME))
            assert "拔出" in e.value.zh
            slot.wait_gone()
            with pytest.raises(errors.CardRemovedError):
                conn.command(apdu.select_df_name(profile.SSSE_DF_NAME))
    finally:
        slot.pull()


def test_card_that_stops_answering_times_out(pcscd, tmp_path):
    from tests.conftest import VirtualCardSlot
    slot = VirtualCardSlot(tmp_path / "card.json").blank().insert(faults=["stall@SELECT:1"])
    try:
        conn = reader.connect(slot.reader, transmit_timeout=1.0)
        with pytest.raises(errors.CardTimeoutError) as e:
            conn.command(apdu.select_df_name(profile.SSSE_DF_NAME))
        assert "超时" in e.value.zh
        started = time.monotonic()
        conn.close()  # must not hang on the stuck transmit
        assert time.monotonic() - started < 5.0  # a hang would last until the card is pulled
    finally:
        slot.pull()


def test_reinserted_card_is_found_again(card_slot):
    card_slot.pull()
    with pytest.raises(errors.NoCardError):
        reader.connect(card_slot.reader, timeout=0.2)
    card_slot.insert()
    with reader.connect(card_slot.reader) as conn:
        assert conn.atr.startswith(bytes.fromhex("3B68"))
