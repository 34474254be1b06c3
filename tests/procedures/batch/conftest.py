"""Fixtures of the batch family's tests: a migrated SQLite database (the ``app`` fixture) with
the Ningbo-like configuration, and helpers to write exports and register extracts."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from app.procedures.batch import city

NINGBO = Path(city.CITIES_DIR) / "ningbo.json"
HEADER = "参保区域,单位社保编码,单位名称,部门,二级部门,姓名,性别,身份证号,险种,参保日期"
POLICE_HEADER = "身份证号,姓名,性别,民族,出生日期,户籍地址,户籍区划,二代身份证"


def id_number(body17: str) -> str:
    from stdnum.cn import ric
    return body17 + ric.calc_check_digit(body17 + "0")


def csv_bytes(header: str, rows: list[tuple], bom: bool = False) -> bytes:
    out = io.StringIO()
    out.write(header + "\n")
    w = csv.writer(out, lineterminator="\n")
    for r in rows:
        w.writerow(r)
    data = out.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


@pytest.fixture
def factory(app):
    """The session factory of a migrated SQLite database configured for Ningbo."""
    f = app.extensions["sscard"].session_factory
    with f() as s, s.begin():
        city.apply(s, city.load_file(NINGBO))
    return f
