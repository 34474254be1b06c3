"""The batch family's commands, as operators and acceptance checks call them: city-config,
police-import, batch-import --json (exactly the issue's keys), batch-roster --json."""
from __future__ import annotations

import json

from tests.procedures.batch.conftest import HEADER, NINGBO, POLICE_HEADER, csv_bytes
from tests.procedures.batch.test_eligibility import BAD_ROWS, P, ROWS, register_rows

KEYS = ["batch", "rows", "rejected_rows", "persons", "eligible", "held_duplicate_region",
        "excluded_insurance", "excluded_after_cutoff", "not_in_register", "not_local_household",
        "no_second_gen_id", "police_mismatch", "employers"]


def test_commands_end_to_end(app, tmp_path):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["city-config", str(NINGBO)])
    assert out.exit_code == 0 and "宁波市" in out.output and "330282" in out.output
    (tmp_path / "police.csv").write_bytes(csv_bytes(POLICE_HEADER, register_rows()))
    out = runner.invoke(args=["police-import", str(tmp_path / "police.csv")])
    assert out.exit_code == 0 and f"{len(register_rows())} 人已载入" in out.output
    (tmp_path / "export.csv").write_bytes(csv_bytes(HEADER, ROWS + BAD_ROWS))
    out = runner.invoke(args=["batch-import", str(tmp_path / "export.csv"), "--name", "第一批",
                              "--cutoff", "2011-08-31", "--regions", "330200,330282", "--json"])
    assert out.exit_code == 0, out.output
    figures = json.loads(out.output)
    assert list(figures) == KEYS
    assert figures["persons"] == 15 and figures["eligible"] == 3 and figures["employers"] == 2
    assert figures["rejected_rows"] == len(BAD_ROWS)

    out = runner.invoke(args=["batch-roster", str(figures["batch"]), "E1", "--json"])
    roster = json.loads(out.output)
    assert [r["name"] for r in roster] == ["朴槿", "单田芳"] and [r["seq"] for r in roster] == [1, 2]
    assert set(roster[0]) == {"seq", "name", "sex", "id_number"}
    assert roster[0]["id_number"] != P["dup_after"][0] and roster[0]["sex"] == "女"


def test_commands_refuse_bad_input_with_words(app, tmp_path):
    runner = app.test_cli_runner()
    (tmp_path / "export.csv").write_bytes(csv_bytes(HEADER, ROWS))
    base = ["batch-import", str(tmp_path / "export.csv"), "--name", "批"]
    out = runner.invoke(args=base + ["--cutoff", "2011/08/31", "--regions", "350581"])
    assert out.exit_code != 0 and "YYYY-MM-DD" in out.output
    out = runner.invoke(args=base + ["--cutoff", "2011-08-31", "--regions", "999999"])
    assert out.exit_code != 0 and "不是本市" in out.output
    out = runner.invoke(args=["batch-import", str(tmp_path / "nope.csv"), "--name", "批",
                              "--cutoff", "2011-08-31", "--regions", "350581"])
    assert out.exit_code != 0 and "无法读取文件" in out.output
    (tmp_path / "bad.csv").write_bytes(b"a,b\n1,2\n")
    out = runner.invoke(args=["batch-import", str(tmp_path / "bad.csv"), "--name", "批",
                              "--cutoff", "2011-08-31", "--regions", "350581", "--json"])
    assert out.exit_code != 0 and "表头缺少列" in out.output
    out = runner.invoke(args=["batch-roster", "99", "E1", "--json"])
    assert out.exit_code != 0 and "没有单位社保编码为 E1 的单位" in out.output
