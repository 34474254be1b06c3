"""The command line (python -m hardware) on the virtual card: personalise, read, verify, PIN, block."""
import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.hardware
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cli(*args):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "hardware", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_cli_card_life(card_slot, card_data, tmp_path):
    data = tmp_path / "holder.json"
    data.write_text(json.dumps(card_data, ensure_ascii=False), encoding="utf-8")
    reader = ["--reader", card_slot.reader]

    out = cli("readers")
    assert out.returncode == 0 and card_slot.reader in out.stdout

    out = cli("personalise", str(data), "--journal", str(tmp_path / "job.json"), *reader)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["ok"] and result["card"]["name"] == "林堃" and result["apdus"] == 57

    out = cli("read", "--standard", *reader)
    assert out.stdout.startswith(f"350581|{card_data['ssn']}|B7K334774|")

    out = cli("verify", str(data), *reader)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["identical"] is True
    data.write_text(json.dumps(dict(card_data, name="林坤"), ensure_ascii=False), encoding="utf-8")
    out = cli("verify", str(data), *reader)
    assert out.returncode == 1 and json.loads(out.stdout)["differences"] == ["name"]

    assert cli("change-pin", "000000", "112233", *reader).returncode == 0
    out = cli("verify-pin", "000000", *reader)
    assert out.returncode == 2 and "密码错误" in out.stderr and "Wrong PIN" in out.stderr
    assert cli("verify-pin", "112233", *reader).returncode == 0

    assert cli("block", *reader).returncode == 0
    out = cli("read", *reader)
    assert json.loads(out.stdout)["application_state"] == "blocked"


def test_cli_reports_bad_data_clearly(card_slot, card_data, tmp_path):
    data = tmp_path / "holder.json"
    data.write_text(json.dumps(dict(card_data, name="王𠮷", card_number="123"), ensure_ascii=False), encoding="utf-8")
    out = cli("personalise", str(data), "--reader", card_slot.reader)
    assert out.returncode == 2
    assert "𠮷" in out.stderr and "卡号" in out.stderr and "card number" in out.stderr
