"""Synthetic data for batch issuance 批量制卡模拟数据: a contribution-system export
(统一申报征缴数据, ``contribution.csv`` or ``.xlsx``) and a police household-register extract
(``police.csv``) with a known outcome for every person, for the benchmark, the tests and the
demo.

    python -m app.procedures.batch.generate OUT_DIR --persons N [--seed S] [--xlsx]

``generate`` is deterministic (same arguments, same bytes) and streamed: rows are written as
they are made, so memory stays flat for 100,000 persons (only the few rows of "side" employers,
about 2 % of the persons, are held until the end). ``persons`` is the number of persons the
batch must count (``Expected.persons == persons``); on top of them come a few persons insured
only outside the batch's regions (when the batch does not take every region of the city), a
few extra citizens in the register, and a handful of unreadable rows.

Every person is made for one outcome, in the order of the rules (``states.RULE_ORDER``):

========================  ======  ======================================================
outcome                   share   how
========================  ======  ======================================================
excluded_after_cutoff     2 %     all rows (medical, pension...) dated after the cut-off
excluded_insurance        3 %     only 住院医疗保险 / 外来工大病医疗保险 (+ 工伤, 养老) in the
                                  batch's regions; some also 职工基本医疗保险 in one or two
                                  regions of the city outside the batch (rule 2 before 3)
held_duplicate_region     1 %     职工基本医疗保险 at the employer and at a second employer in
                                  another region of the city, both by the cut-off
not_in_register           1 %     absent from police.csv
not_local_household       1 %     户籍区划 outside the city (first four digits)
no_second_gen_id          0.5 %   二代身份证 否
police_mismatch           1 %     the export's name or sex differs from the register (the
                                  register agrees with the ID number; the export is wrong)
eligible                  rest    one 职工基本医疗保险 row by the cut-off (its employer is the
                                  person's); some also have a row after the cut-off (a
                                  later insurance, or medical at an employer in another
                                  region after the cut-off: ignored by rule 1)
========================  ======  ======================================================

About a quarter of the non-eligible persons also carry a problem of a later rule (an
after-cut-off person missing from the register, a not-local household without a second-
generation ID...): the first rule decides, so these test the order. The unreadable rows are
a bad check digit, a missing name, an impossible date and an unknown insurance; the
impossible dates sit on extra rows of eligible persons (the row is refused, the person
stays), the others belong to nobody else. Every readable row is distinct on the export's
natural key (ID number, region, employer, insurance, date).
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from datetime import date
from pathlib import Path

from app.procedures.batch.generate.people import (
    Expected,
    _counts_for,
    _IdMaker,
    _known_region,
    _name,
    _other_name,
    _Writer,
    load_city,
)
from app.procedures.batch.generate.words import (
    _AFTER,
    _DUP,
    _ELIGIBLE,
    _INSURANCE,
    _MISMATCH,
    _NO2,
    _NOT_LOCAL,
    _NOT_REG,
    CONTRIBUTION_HEADER,
    COUNT_KEYS,
    DEFAULT_CUTOFF,
    DEPTS,
    FIRM_FORMS,
    FIRM_TRADES,
    FIRM_WORDS,
    FOREIGN_HOUSEHOLDS,
    INJURY,
    INPATIENT,
    INSURANCES,
    MATERNITY,
    MEDICAL,
    MIGRANT_SERIOUS,
    NATIONS,
    OTHER_BIRTH_CODES,
    PENSION,
    POLICE_HEADER,
    ROADS,
    SPECIAL_SURNAMES,
    STATUSES,
    SUBDEPTS,
    UNEMPLOYMENT,
    UNKNOWN_INSURANCE,
)
from app.procedures.batch.states import Eligibility

# ---------------------------------------------------------------------------- the generator

def generate(out_dir, persons: int, *, city: dict | None = None, regions=None,
             cutoff: date = DEFAULT_CUTOFF, seed: int = 1, fmt: str = "csv", bom: bool = True,
             outcomes: bool = False) -> Expected:
    """Write ``contribution.csv`` (or ``.xlsx``) and ``police.csv`` into ``out_dir`` for a
    batch of ``regions`` (default: all the city's) with cut-off ``cutoff``; what its import
    must report. ``bom``: the CSV export starts with a UTF-8 BOM (as exported on Windows).
    ``outcomes``: also write ``expected_persons.csv`` (身份证号, outcome, employer code)."""
    if fmt not in ("csv", "xlsx"):
        raise ValueError("fmt must be 'csv' or 'xlsx'")
    if persons < 1:
        raise ValueError("persons must be at least 1")
    city = city or load_city("ningbo")
    city_regions = [str(r["code"]) for r in city["regions"]]
    region_names = {str(r["code"]): r["name"] for r in city["regions"]}
    regions = list(regions) if regions else list(city_regions)
    if not set(regions) <= set(city_regions):
        raise ValueError(f"regions {sorted(set(regions) - set(city_regions))} are not the city's")
    outside_regions = [r for r in city_regions if r not in regions]
    city_name = str(city["city"])
    city_short = city_name[:-1] if city_name.endswith("市") and len(city_name) > 2 else city_name
    local_prefixes = {r[:4] for r in city_regions} | {r[:4] for r in regions}
    foreign = [f for f in FOREIGN_HOUSEHOLDS if f[0][:4] not in local_prefixes]
    if not foreign:
        raise ValueError("no sample household region lies outside this city")
    birth_codes = [r for r in regions if _known_region(r)] or \
        [c for c in OTHER_BIRTH_CODES if c[:4] not in local_prefixes]

    rng = random.Random(seed)
    cut = cutoff.toordinal()
    first_birth = date(cutoff.year - 60, 1, 1)
    last_birth = date(cutoff.year - 19, 12, 31)
    ids = _IdMaker(rng, first_birth, last_birth, birth_codes)
    earliest_insured = date(cutoff.year - 25, 1, 1).toordinal()
    adult = 18 * 365 + 5

    counts = _counts_for(persons, can_dup=len(city_regions) >= 2)
    cats = bytearray()
    for cat, n in enumerate(counts):
        cats += bytes([cat]) * n
    rng.shuffle(cats)

    # main employers (in the batch's regions) as blocks of consecutive persons
    n_emp = max(1, persons // 50)
    cuts = sorted(rng.sample(range(1, persons), n_emp - 1)) if n_emp > 1 else []
    bounds = [0, *cuts, persons]
    emp_has_eligible = bytearray(n_emp)
    # weights: the first region (often 市区) carries more employers
    region_weights = [3 if i == 0 else 1 for i in range(len(regions))]
    # side employers: one or more per region of the city (second jobs, medical elsewhere)
    n_side = max(1, persons // 10000)
    side = {}  # region -> [(code, name)]
    for r in city_regions:
        side[r] = [(f"{r}9{j:05d}", f"{city_short}{rng.choice(FIRM_WORDS)}{rng.choice(FIRM_TRADES)}"
                    f"{rng.choice(FIRM_FORMS)}") for j in range(n_side)]
    n_outside = max(1, persons // 1000) if outside_regions else 0
    n_bad = max(1, persons // 20000)
    n_extra_police = persons // 100

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cpath = out / ("contribution.xlsx" if fmt == "xlsx" else "contribution.csv")
    ppath = out / "police.csv"
    opath = out / "expected_persons.csv" if outcomes else None
    cw = _Writer(cpath, fmt, bom)
    pfh = open(ppath, "w", encoding="utf-8", newline="")
    pw = csv.writer(pfh)
    pw.writerow(POLICE_HEADER)
    police_rows = 0
    ofh = open(opath, "w", encoding="utf-8", newline="") if opath else None
    ow = csv.writer(ofh) if ofh else None
    if ow:
        ow.writerow(("身份证号", "outcome", "单位社保编码"))
    deferred: list[tuple] = []   # rows at side employers, written at the end
    rejected = 0
    k = 0                        # citizen counter (ID numbers)

    # positions of the unreadable rows (after the person with that index)
    bad_after = {}
    kinds = ("check_digit", "no_name", "bad_date", "bad_insurance")
    for kind in kinds:
        for _ in range(n_bad):
            bad_after.setdefault(rng.randrange(persons), []).append(kind)

    def date_str(o: int) -> str:
        return date.fromordinal(o).isoformat()

    def insured_on(birth: int) -> int:
        lo = max(birth + adult, earliest_insured)
        lo = min(lo, cut - 30)
        return rng.randint(lo, cut)

    def address(region: str) -> str:
        rname = region_names.get(region, "")
        rname = "" if rname in ("市区", city_name, city_short) else rname
        return f"{city_name}{rname}{rng.choice(ROADS)}{rng.randint(1, 999)}号"

    def police_row(id_number, name, sex, birth, *, household=None, second=True):
        nonlocal police_rows
        r = rng.random()
        if r < 0.85:
            nation = "汉族"
        elif r < 0.9:
            nation = "01"
        else:
            code, zh = rng.choice(NATIONS[1:])
            nation = code if rng.random() < 0.5 else zh
        if household is None:
            hreg = rng.choice(regions)
            addr = address(hreg)
        else:
            hreg, prefix = household
            addr = f"{prefix}{rng.choice(ROADS)}{rng.randint(1, 999)}号"
        pw.writerow((id_number, name, sex, nation, date_str(birth), addr, hreg,
                     "是" if second else "否"))
        police_rows += 1

    def bad_row(kind: str, region: str, ecode: str, ename: str, d1: str, d2: str):
        nonlocal k, rejected
        id_number, birth, sex = ids.make(k)
        k += 1
        name = _name(rng, sex)
        day = date_str(insured_on(birth))
        ins = MEDICAL
        if kind == "check_digit":
            good = id_number[-1]
            id_number = id_number[:-1] + ("0" if good != "0" else "1")
        elif kind == "no_name":
            name = ""
        elif kind == "bad_insurance":
            ins = UNKNOWN_INSURANCE
        cw.write((region, ecode, ename, d1, d2, name, sex, id_number, ins, day))
        rejected += 1

    for e in range(n_emp):
        region = rng.choices(regions, region_weights)[0]
        ecode = f"{region}{e + 1:05d}"
        ename = f"{city_short}{rng.choice(FIRM_WORDS)}{rng.choice(FIRM_TRADES)}{rng.choice(FIRM_FORMS)}"
        depts = []
        for d1 in rng.sample(DEPTS, rng.randint(1, 5)):
            if rng.random() < 0.4:
                depts.extend((d1, d2) for d2 in rng.sample(SUBDEPTS, rng.randint(1, 3)))
            else:
                depts.append((d1, ""))
        for p in range(bounds[e], bounds[e + 1]):
            cat = cats[p]
            id_number, birth, sex = ids.make(k)
            k += 1
            name = _name(rng, sex)
            d1, d2 = rng.choice(depts)
            head = (region, ecode, ename, d1, d2)

            # police flags: (in register, foreign household, second-gen ID, name differs, sex differs)
            in_reg, foreign_hh, second, name_diff, sex_diff = True, False, True, False, False
            r = rng.random()
            if cat == _AFTER:
                in_reg = r >= 0.2
                name_diff = 0.2 <= r < 0.3
            elif cat == _INSURANCE:
                in_reg = r >= 0.2
                foreign_hh = 0.2 <= r < 0.3
            elif cat == _DUP:
                in_reg = r >= 0.2
                second = not (0.2 <= r < 0.3)
            elif cat == _NOT_REG:
                in_reg = False
            elif cat == _NOT_LOCAL:
                foreign_hh = True
                second = not (r < 0.2)
                name_diff = 0.2 <= r < 0.3
            elif cat == _NO2:
                second = False
                name_diff = r < 0.2
                sex_diff = 0.2 <= r < 0.3
            elif cat == _MISMATCH:
                name_diff = r < 0.6
                sex_diff = r >= 0.5
            # the export's name and sex (the register keeps the true ones)
            x_name = _other_name(rng, name, sex) if name_diff else name
            x_sex = ("女" if sex == "男" else "男") if sex_diff else sex

            def row(ins, day, _head=head):
                cw.write((*_head, x_name, x_sex, id_number, ins, date_str(day)))

            if cat == _AFTER:
                day = rng.randint(cut + 1, cut + 90)
                row(MEDICAL, day)
                if rng.random() < 0.8:
                    row(PENSION, day)
                if rng.random() < 0.5:
                    row(INJURY, day)
            elif cat == _INSURANCE:
                day = insured_on(birth)
                row(INPATIENT if rng.random() < 0.5 else MIGRANT_SERIOUS, day)
                if rng.random() < 0.6:
                    row(INJURY, day)
                if rng.random() < 0.4:
                    row(PENSION, day)
                r2 = rng.random()
                if outside_regions and r2 < 0.3:  # basic medical insurance outside the batch
                    picks = rng.sample(outside_regions, 2 if len(outside_regions) >= 2
                                       and r2 < 0.1 else 1)
                    for oreg in picks:
                        scode, sname = rng.choice(side[oreg])
                        deferred.append((oreg, scode, sname, rng.choice(DEPTS), "", x_name,
                                         x_sex, id_number, MEDICAL, date_str(insured_on(birth))))
            elif cat == _DUP:
                day = insured_on(birth)
                row(MEDICAL, day)
                row(PENSION, day)
                oreg = rng.choice([c for c in city_regions if c != region])
                scode, sname = rng.choice(side[oreg])
                deferred.append((oreg, scode, sname, rng.choice(DEPTS), "", x_name, x_sex,
                                 id_number, MEDICAL, date_str(insured_on(birth))))
            else:  # eligible, or found out by the register
                day = insured_on(birth)
                row(MEDICAL, day)
                if rng.random() < 0.9:
                    row(PENSION, rng.randint(min(max(birth + adult, day - 3650), day), day)
                        if rng.random() < 0.2 else day)
                if rng.random() < 0.7:
                    row(UNEMPLOYMENT, day)
                if rng.random() < 0.8:
                    row(INJURY, day)
                r2 = rng.random()
                if r2 < 0.5:
                    row(MATERNITY, day)
                elif r2 < 0.51:  # joined maternity insurance after the cut-off: not counted
                    row(MATERNITY, rng.randint(cut + 1, cut + 60))
                elif r2 < 0.515 and len(city_regions) >= 2:
                    # medical at an employer in another region after the cut-off: not counted
                    oreg = rng.choice([c for c in city_regions if c != region])
                    scode, sname = rng.choice(side[oreg])
                    deferred.append((oreg, scode, sname, rng.choice(DEPTS), "", x_name, x_sex,
                                     id_number, MEDICAL, date_str(rng.randint(cut + 1, cut + 60))))
                if cat == _ELIGIBLE:
                    emp_has_eligible[e] = 1

            if in_reg:
                police_row(id_number, name, sex, birth,
                           household=rng.choice(foreign) if foreign_hh else None,
                           second=second)
            if ow:
                ow.writerow((id_number, STATUSES[cat].value, ecode))

            for kind in bad_after.get(p, ()):
                if kind == "bad_date" and cat == _ELIGIBLE:
                    year = rng.randint(cutoff.year - 10, cutoff.year - 1)
                    bad = rng.choice((f"{year}-02-30", f"{year}-13-01", f"{year}-04-31"))
                    cw.write((*head, x_name, x_sex, id_number, MATERNITY if x_sex == "女"
                              else UNEMPLOYMENT, bad))
                    rejected += 1
                elif kind == "bad_date":  # on an extra row of a person of its own
                    id2, birth2, sex2 = ids.make(k)
                    k += 1
                    year = rng.randint(cutoff.year - 10, cutoff.year - 1)
                    cw.write((*head, _name(rng, sex2), sex2, id2, MEDICAL, f"{year}-02-30"))
                    rejected += 1
                else:
                    bad_row(kind, *head)

    # persons insured only outside the batch's regions (not the batch's persons)
    for _ in range(n_outside):
        id_number, birth, sex = ids.make(k)
        k += 1
        name = _name(rng, sex)
        oreg = rng.choice(outside_regions)
        scode, sname = rng.choice(side[oreg])
        day = date_str(insured_on(birth))
        deferred.append((oreg, scode, sname, "生产部", "", name, sex, id_number, MEDICAL, day))
        deferred.append((oreg, scode, sname, "生产部", "", name, sex, id_number, PENSION, day))
        police_row(id_number, name, sex, birth, household=None)
        if ow:
            ow.writerow((id_number, "outside", scode))
    deferred.sort(key=lambda r: (r[1], r[7], r[8]))
    for r in deferred:
        cw.write(r)
    cw.close()

    # other citizens of the register (family members, people insured elsewhere)
    for _ in range(n_extra_police):
        id_number, birth, sex = ids.make(k)
        k += 1
        police_row(id_number, _name(rng, sex), sex, birth)
    pfh.close()
    if ofh:
        ofh.close()

    n_emp_used = sum(1 for e in range(n_emp) if bounds[e + 1] > bounds[e])
    side_used = len({r[1] for r in deferred})
    by_status = dict(zip(STATUSES, counts))
    return Expected(
        rows=cw.rows, rejected_rows=rejected, persons=persons,
        eligible=by_status[Eligibility.ELIGIBLE],
        held_duplicate_region=by_status[Eligibility.HELD_DUPLICATE_REGION],
        excluded_insurance=by_status[Eligibility.EXCLUDED_INSURANCE],
        excluded_after_cutoff=by_status[Eligibility.EXCLUDED_AFTER_CUTOFF],
        not_in_register=by_status[Eligibility.NOT_IN_REGISTER],
        not_local_household=by_status[Eligibility.NOT_LOCAL_HOUSEHOLD],
        no_second_gen_id=by_status[Eligibility.NO_SECOND_GEN_ID],
        police_mismatch=by_status[Eligibility.POLICE_MISMATCH],
        employers=sum(emp_has_eligible),
        valid_rows=cw.rows - rejected, police_rows=police_rows, outside_persons=n_outside,
        employers_total=n_emp_used + side_used,
        regions=tuple(regions), cutoff=cutoff, contribution=str(cpath), police=str(ppath),
        outcomes=str(opath) if opath else None)


# ---------------------------------------------------------------------------- command line

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m app.procedures.batch.generate",
        description="Write a synthetic contribution export and police extract; print what "
                    "their import must report (JSON).")
    ap.add_argument("out_dir")
    ap.add_argument("--persons", type=int, required=True, help="persons the batch counts")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--xlsx", action="store_true", help="contribution.xlsx instead of .csv")
    ap.add_argument("--city", default="ningbo", help="cities/<name>.json or a path (default ningbo)")
    ap.add_argument("--regions", help="the batch's regions, CODE,CODE (default: all the city's)")
    ap.add_argument("--cutoff", type=date.fromisoformat, default=DEFAULT_CUTOFF,
                    help=f"YYYY-MM-DD (default {DEFAULT_CUTOFF})")
    ap.add_argument("--outcomes", action="store_true",
                    help="also write expected_persons.csv (each person's outcome)")
    args = ap.parse_args(argv)
    expected = generate(args.out_dir, args.persons, city=load_city(args.city),
                        regions=args.regions.split(",") if args.regions else None,
                        cutoff=args.cutoff, seed=args.seed, fmt="xlsx" if args.xlsx else "csv",
                        outcomes=args.outcomes)
    json.dump(expected.as_dict(), sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0




__all__ = ["CONTRIBUTION_HEADER", "COUNT_KEYS", "DEFAULT_CUTOFF", "INSURANCES", "MEDICAL",
           "POLICE_HEADER", "SPECIAL_SURNAMES", "STATUSES", "Expected", "generate", "load_city", "main"]
