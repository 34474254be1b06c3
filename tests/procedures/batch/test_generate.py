"""The synthetic batch data generator (app.procedures.batch.generate): deterministic, the exact
headers, valid ID numbers except the planted bad rows, and expected counts that an independent
reading of the eligibility rules (below, written from the issue's text) finds again."""
from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest
from stdnum.cn import ric

from app.procedures.batch import generate as g
from app.procedures.batch.generate import people
from app.procedures.batch.states import Eligibility

NINGBO = g.load_city("ningbo")
SHISHI = g.load_city("shishi")
ALL_NINGBO = [r["code"] for r in NINGBO["regions"]]
SUBSET = ALL_NINGBO[:-1]          # the batch leaves 象山 330225 out
CUTOFF = date(2026, 6, 30)


# ---------------------------------------------------------------------------- the oracle

def read_rows(path: Path):
    """Data rows of contribution.csv / .xlsx as lists of strings."""
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook
        wb = load_workbook(path, read_only=True)
        try:
            rows = wb.worksheets[0].iter_rows(values_only=True)
            header = next(rows)
            assert tuple(header) == g.CONTRIBUTION_HEADER
            for r in rows:
                yield ["" if v is None else str(v) for v in r]
        finally:
            wb.close()
        return
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        assert tuple(next(reader)) == g.CONTRIBUTION_HEADER
        yield from reader


def _date(text: str) -> date | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def valid_id(number: str) -> bool:
    """GB 11643 as the platform checks it (forms.validators.identity.check_citizen_id): 17
    digits and a check character, a real birth date not in the future, a known region code
    (whenever it was in use; stdnum's own ``is_valid`` also wants the code in use at birth)."""
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    try:
        birth = ric.get_birth_date(number)
    except Exception:
        return False
    return (birth <= date.today() and number[17] == ric.calc_check_digit(number)
            and people._known_region(number[:6]))


def bad_reason(row, city_regions) -> str | None:
    region, code, ename, _d1, _d2, name, sex, idn, ins, day = row
    if region not in city_regions:
        return "region"
    if not valid_id(idn):
        return "id"
    if not name.strip():
        return "name"
    if sex not in ("男", "女"):
        return "sex"
    if ins not in g.INSURANCES:
        return "insurance"
    if _date(day) is None:
        return "date"
    if not code or not ename:
        return "employer"
    return None


def evaluate(contribution: Path, police: Path, city: dict, regions, cutoff: date):
    """Apply the issue's rules literally; (counts, {id: (outcome, employer or None)}, reasons)."""
    city_regions = {r["code"] for r in city["regions"]}
    regions = set(regions)
    prefixes = {r[:4] for r in regions}
    rows = rejected = 0
    reasons = Counter()
    by_person = defaultdict(list)
    for row in read_rows(contribution):
        rows += 1
        why = bad_reason(row, city_regions)
        if why:
            rejected += 1
            reasons[why] += 1
            continue
        region, code, _e, _d1, _d2, name, sex, idn, ins, day = row
        by_person[idn].append((region, code, name, sex, ins, _date(day)))
    register = {}
    with open(police, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        assert tuple(next(reader)) == g.POLICE_HEADER
        for idn, name, sex, _nation, _birth, _addr, hreg, second in reader:
            register[idn] = (name, sex, hreg, second)
    outcomes = {}
    for idn, recs in by_person.items():
        in_batch = [r for r in recs if r[0] in regions]
        if not in_batch:
            continue
        counted = [r for r in recs if r[5] <= cutoff]
        med_batch_any = [r for r in in_batch if r[4] == g.MEDICAL]
        med_batch = [r for r in counted if r[0] in regions and r[4] == g.MEDICAL]
        med_regions = {r[0] for r in counted if r[4] == g.MEDICAL}
        employer = None
        if med_batch_any and not med_batch:
            status = Eligibility.EXCLUDED_AFTER_CUTOFF
        elif not med_batch:
            status = Eligibility.EXCLUDED_INSURANCE
        elif len(med_regions) >= 2:
            status = Eligibility.HELD_DUPLICATE_REGION
        elif idn not in register:
            status = Eligibility.NOT_IN_REGISTER
        elif register[idn][2][:4] not in prefixes:
            status = Eligibility.NOT_LOCAL_HOUSEHOLD
        elif register[idn][3] != "是":
            status = Eligibility.NO_SECOND_GEN_ID
        elif {(r[2], r[3]) for r in recs} != {register[idn][:2]}:
            status = Eligibility.POLICE_MISMATCH
        else:
            status = Eligibility.ELIGIBLE
            employers = {r[1] for r in med_batch}
            assert len(employers) == 1, (idn, employers)
            employer = employers.pop()
        outcomes[idn] = (status.value, employer)
    by_status = Counter(s for s, _ in outcomes.values())
    counts = {"rows": rows, "rejected_rows": rejected, "persons": len(outcomes),
              **{s.value: by_status.get(s.value, 0) for s in g.STATUSES},
              "employers": len({e for _, e in outcomes.values() if e})}
    return {k: counts[k] for k in g.COUNT_KEYS}, outcomes, reasons


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ---------------------------------------------------------------------------- tests

def test_deterministic(tmp_path):
    a = g.generate(tmp_path / "a", 3000, regions=SUBSET, cutoff=CUTOFF, seed=7)
    b = g.generate(tmp_path / "b", 3000, regions=SUBSET, cutoff=CUTOFF, seed=7)
    c = g.generate(tmp_path / "c", 3000, regions=SUBSET, cutoff=CUTOFF, seed=8)
    assert a.counts() == b.counts()
    for name in ("contribution.csv", "police.csv"):
        assert sha(tmp_path / "a" / name) == sha(tmp_path / "b" / name)
        assert sha(tmp_path / "a" / name) != sha(tmp_path / "c" / name)


def test_headers_exact(tmp_path):
    g.generate(tmp_path / "bom", 200, cutoff=CUTOFF)
    g.generate(tmp_path / "plain", 200, cutoff=CUTOFF, bom=False)
    expected = ",".join(g.CONTRIBUTION_HEADER).encode() + b"\r\n"
    assert (tmp_path / "bom" / "contribution.csv").read_bytes().startswith(b"\xef\xbb\xbf" + expected)
    assert (tmp_path / "plain" / "contribution.csv").read_bytes().startswith(expected)
    assert (tmp_path / "plain" / "police.csv").read_bytes().startswith(
        "身份证号,姓名,性别,民族,出生日期,户籍地址,户籍区划,二代身份证".encode() + b"\r\n")


def test_rows_valid_except_the_planted_ones(tmp_path):
    exp = g.generate(tmp_path, 40000, regions=SUBSET, cutoff=CUTOFF, seed=3)
    city_regions = set(ALL_NINGBO)
    reasons = Counter()
    keys = set()
    employers = {}
    persons = {}
    n = 0
    for row in read_rows(Path(exp.contribution)):
        n += 1
        assert len(row) == 10
        why = bad_reason(row, city_regions)
        if why:
            reasons[why] += 1
            continue
        region, code, ename, d1, d2, name, sex, idn, ins, day = row
        assert re.fullmatch(r"\d{6}", region) and d1  # every row has a department
        assert employers.setdefault(code, (ename, region)) == (ename, region)  # one name, one region
        assert persons.setdefault(idn, (name, sex)) == (name, sex)  # one name and sex per person
        key = (idn, region, code, ins, day)
        assert key not in keys  # the natural key of batch_contribution
        keys.add(key)
    # a handful of each planted kind (40,000 persons: two each), nothing else refused
    assert reasons == {"id": 2, "name": 2, "date": 2, "insurance": 2}
    assert n == exp.rows and sum(reasons.values()) == exp.rejected_rows
    assert len(keys) == exp.valid_rows
    assert len(employers) == exp.employers_total
    assert 40000 // 50 <= len(employers) <= 40000 // 50 + 6 * (40000 // 10000)
    with open(exp.police, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        police = list(reader)
    assert len(police) == exp.police_rows
    assert all(valid_id(r[0]) for r in police)
    assert len({r[0] for r in police}) == len(police)
    assert {r[7] for r in police} == {"是", "否"}
    assert {r[2] for r in police} == {"男", "女"}
    assert all(re.fullmatch(r"\d{6}", r[6]) and date.fromisoformat(r[4]) for r in police)
    nations = Counter(r[3] for r in police)
    assert nations["汉族"] > len(police) * 0.8 and nations["01"] > 0
    assert any(re.fullmatch(r"\d\d", n) and n != "01" for n in nations)
    for r in police:  # the register agrees with the ID number (birth date, sex)
        assert r[4] == ric.get_birth_date(r[0]).isoformat()
        assert r[2] == ("男" if int(r[0][16]) % 2 else "女")
    # names: the surnames read specially as surnames, the compound ones, the common ones
    names = [name for name, _ in persons.values()]
    for surname in g.SPECIAL_SURNAMES:
        assert any(n.startswith(surname) for n in names), surname
    assert sum(n[0] in "王李张刘陈" for n in names) > len(names) * 0.2
    assert all(2 <= len(n) <= 5 for n in names)
    assert any(idn.endswith("X") for idn in persons)


def test_counts_add_up(tmp_path):
    exp = g.generate(tmp_path, 10000, regions=SUBSET, cutoff=CUTOFF)
    c = exp.counts()
    assert list(c) == list(g.COUNT_KEYS)
    assert exp.persons == 10000
    assert exp.persons == sum(c[s.value] for s in g.STATUSES)
    assert exp.rows == exp.valid_rows + exp.rejected_rows
    assert (c["excluded_after_cutoff"], c["excluded_insurance"], c["held_duplicate_region"],
            c["not_in_register"], c["not_local_household"], c["no_second_gen_id"],
            c["police_mismatch"]) == (200, 300, 100, 100, 100, 50, 100)
    assert c["eligible"] == 10000 - 950
    assert 0 < c["employers"] <= 10000 // 50
    assert exp.outside_persons > 0
    assert 3 * exp.persons < exp.rows < 5 * exp.persons


@pytest.mark.parametrize("city,regions", [
    (NINGBO, SUBSET),      # a part of the city: persons outside, medical elsewhere
    (NINGBO, None),        # the whole city
    (SHISHI, None),        # one region: no duplicate regions possible
])
def test_rules_oracle_agrees(tmp_path, city, regions):
    exp = g.generate(tmp_path, 6000, city=city, regions=regions, cutoff=CUTOFF, seed=5,
                     outcomes=True)
    counts, outcomes, _ = evaluate(Path(exp.contribution), Path(exp.police), city,
                                   exp.regions, CUTOFF)
    assert counts == exp.counts()
    with open(exp.outcomes, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        planned = {idn: (o, e) for idn, o, e in reader if o != "outside"}
    assert {i: o for i, (o, _) in planned.items()} == {i: o for i, (o, _) in outcomes.items()}
    for idn, (o, employer) in outcomes.items():
        if o == "eligible":
            assert employer == planned[idn][1]
    if city is SHISHI:
        assert exp.held_duplicate_region == 0 and exp.outside_persons == 0
    if regions is None:
        assert exp.outside_persons == 0


def test_small_batches(tmp_path):
    for n in (1, 7, 60, 100):
        exp = g.generate(tmp_path / str(n), n, cutoff=CUTOFF)
        counts, _, _ = evaluate(Path(exp.contribution), Path(exp.police), NINGBO,
                                exp.regions, CUTOFF)
        assert counts == exp.counts(), n
        assert exp.persons == n


def test_xlsx_readable(tmp_path):
    from openpyxl import load_workbook
    exp = g.generate(tmp_path, 2000, regions=SUBSET, cutoff=CUTOFF, fmt="xlsx")
    assert exp.contribution.endswith("contribution.xlsx")
    wb = load_workbook(exp.contribution, read_only=True)
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(max_row=2, values_only=True))
    wb.close()
    assert rows[0] == g.CONTRIBUTION_HEADER
    assert all(isinstance(v, str) for v in rows[1][:3] + rows[1][5:])  # codes stay text
    counts, _, _ = evaluate(Path(exp.contribution), Path(exp.police), NINGBO, SUBSET, CUTOFF)
    assert counts == exp.counts()  # rows included
    # the same persons and outcomes as the CSV of the same seed
    csv_exp = g.generate(tmp_path / "csv", 2000, regions=SUBSET, cutoff=CUTOFF)
    assert csv_exp.counts() == exp.counts()


def test_cli_prints_expected(tmp_path, capsys):
    assert g.main([str(tmp_path), "--persons", "500", "--seed", "2"]) == 0
    import json
    printed = json.loads(capsys.readouterr().out)
    again = g.generate(tmp_path / "again", 500, seed=2)
    assert {k: printed[k] for k in g.COUNT_KEYS} == again.counts()
    assert sha(tmp_path / "contribution.csv") == sha(tmp_path / "again" / "contribution.csv")
