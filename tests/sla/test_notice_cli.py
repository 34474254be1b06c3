"""The calendar commands of the CLI, run as a real process on a fresh SQLite database.

* ``flask --app app calendar-notice FILE --json`` prints the parsed notice as
  ``{"year": ..., "days": {"YYYY-MM-DD": false/true, ...}}`` and changes nothing;
* ``flask --app app calendar-notice FILE --apply`` enters the year (its days, the year as
  complete, a calendar change for the recomputation);
* a text that does not read exits with status 2 and the parser's message, entering nothing;
* ``flask --app app calendar-status`` prints each year with its source
  (package / entered / missing).
"""
import json
import os
import re
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app.common.clock import CHINA_TZ
from app.sla.calendar import package_years
from app.sla.coverage import status_years
from app.sla.notice import parse_notice

ROOT = Path("/work/main")
NOTICES = Path(__file__).parent / "notices"
NOTICE_2026 = NOTICES / "2026.txt"


class Cli:
    """Runs ``flask --app app ...`` against its own SQLite file."""

    def __init__(self, tmp_path: Path):
        self.db_path = tmp_path / "cli.db"
        self.url = f"sqlite:///{self.db_path}"
        self.env = {**os.environ, "DATABASE_URL": self.url}

    def __call__(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([".venv/bin/flask", "--app", "app", *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)

    def rows(self, sql: str) -> list[tuple]:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(text(sql))]
        finally:
            engine.dispose()

    def calendar_rows(self) -> dict[str, int]:
        return {table: self.rows(f"SELECT count(*) FROM {table}")[0][0]
                for table in ("calendar_day", "calendar_year", "calendar_change")}


@pytest.fixture
def cli(tmp_path):
    run = Cli(tmp_path)
    done = run("init-db")
    assert done.returncode == 0, done.stderr
    assert run.calendar_rows() == {"calendar_day": 0, "calendar_year": 0, "calendar_change": 0}
    return run


def test_json_prints_the_parsed_notice_and_changes_nothing(cli):
    done = cli("calendar-notice", str(NOTICE_2026), "--json")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)  # nothing but the JSON on stdout
    assert set(printed) == {"year", "days"}
    assert printed == parse_notice(NOTICE_2026.read_text(encoding="utf-8")).as_json()
    assert printed["year"] == 2026
    assert len(printed["days"]) == 39
    assert printed["days"]["2026-02-15"] is False and printed["days"]["2026-02-14"] is True
    assert printed["days"]["2026-10-07"] is False and printed["days"]["2026-10-10"] is True
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", k) for k in printed["days"])
    assert list(printed["days"]) == sorted(printed["days"])
    assert cli.calendar_rows() == {"calendar_day": 0, "calendar_year": 0, "calendar_change": 0}


def test_json_of_a_cross_year_notice(cli):
    done = cli("calendar-notice", str(NOTICES / "2019.txt"), "--json")
    assert done.returncode == 0, done.stderr
    days = json.loads(done.stdout)["days"]
    assert days["2018-12-29"] is True and days["2018-12-31"] is False and days["2019-01-01"] is False


def test_apply_enters_the_year(cli):
    done = cli("calendar-notice", str(NOTICE_2026), "--apply")
    assert done.returncode == 0, done.stderr
    assert cli.rows("SELECT year, complete FROM calendar_year") == [(2026, 1)]
    changes = cli.rows("SELECT first_day, last_day, reason FROM calendar_change")
    assert len(changes) == 1
    assert changes[0][0].startswith("2026-01-01") and changes[0][1].startswith("2026-12-31")
    assert "2026" in changes[0][2]
    days = dict(cli.rows("SELECT day, is_working FROM calendar_day"))
    assert len(days) == 39
    assert days["2026-02-23"] == 0 and days["2026-09-20"] == 1


def test_unreadable_text_exits_2_and_enters_nothing(cli, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("国务院办公厅关于2026年部分节假日安排的通知\n"
                   "一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周一）上班。\n",
                   encoding="utf-8")
    for mode in ("--json", "--apply"):
        done = cli("calendar-notice", str(bad), mode)
        assert done.returncode == 2, (done.stdout, done.stderr)
        output = done.stdout + done.stderr
        assert "第 2 行" in output and "1月4日是星期日，不是星期一" in output
        assert '"days"' not in done.stdout
    assert cli.calendar_rows() == {"calendar_day": 0, "calendar_year": 0, "calendar_change": 0}


def test_empty_file_exits_2(cli, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    done = cli("calendar-notice", str(empty), "--json")
    assert done.returncode == 2
    assert "通知内容为空" in done.stdout + done.stderr


def _status(cli) -> dict[int, str]:
    done = cli("calendar-status")
    assert done.returncode == 0, done.stderr
    found = {}
    for year, rest in re.findall(r"(?m)^\s*(\d{4})\b(.*)$", done.stdout):
        sources = re.findall(r"\b(package|entered|missing)\b", rest)
        assert len(sources) == 1, rest
        found[int(year)] = sources[0]
    return found


def test_status_lists_each_year_with_its_source(cli):
    today = datetime.now(CHINA_TZ).date()
    status = _status(cli)
    assert set(status_years(today)) <= set(status)
    for year in package_years():
        assert status[year] == "package"
    assert status[package_years().stop] == "missing"

    assert cli("calendar-notice", str(NOTICE_2026), "--apply").returncode == 0
    status = _status(cli)
    assert status[2026] == "entered"
    assert status[2025] == "package"
    assert status[package_years().stop] == "missing"
