"""Benchmark 写卡性能: personalise and verify N blank virtual cards through the real reader stack.

    .venv/bin/python bench/bench_personalise.py [--n 50] [--slot 1]

Each card is its own virtual-card process on a fresh blank state file, inserted into the vpcd
reader and pulled afterwards, like a clerk feeding blank cards one by one: every card gets a
new power-on, ATR and PC/SC connection. The personalisation is the platform's own
(``hardware.personalise``: bank check, read, terminal authentication, 13 UPDATE RECORDs,
read-back and byte-for-byte verification, journal fsynced after every record). Insertion and
removal are timed separately: they measure pcscd's slot polling (~400 ms), not our code.

Starts pcscd if none runs (and stops it at the end); never stops a pcscd it did not start.
Timings are printed, never asserted.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from stdnum.cn import ric  # noqa: E402

from hardware import lab, profile, reader  # noqa: E402
from hardware.personalise import Journal, personalise  # noqa: E402
from hardware.security import SimulatedSecurityModule  # noqa: E402
from hardware.virtual_card import create_blank  # noqa: E402


def holder(i: int, rng: random.Random) -> dict:
    """Card data for holder ``i`` (distinct ID number, card number and card identifier)."""
    body = f"35058119900307{i % 1000:03d}"
    return {
        "card_identifier": profile.make_card_identifier("350581", i.to_bytes(8, "big")).hex(),
        "card_type": "3", "spec_version": "3.00", "init_org": "350581000001",
        "issue_date": "2026-11-20", "expiry_date": "2036-11-20",
        "card_number": profile.new_card_number(rng.choice),
        "ssn": body + ric.calc_check_digit(body + "0"),
        "name": "林堃", "sex": "1", "ethnicity": "01", "birthplace": "350581", "birth_date": "1990-03-07",
    }


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50, help="number of cards (default: %(default)s)")
    ap.add_argument("--slot", type=int, default=1, choices=(0, 1),
                    help="virtual reader slot (default 1, so tests on slot 0 can run meanwhile)")
    args = ap.parse_args(argv)

    pcscd = lab.start_pcscd()
    reader_name = lab.VIRTUAL_READERS[args.slot]
    sam = SimulatedSecurityModule()
    rng = random.Random(2026)
    per_card, insert_times, pull_times, apdus = [], [], [], []
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="sscard-bench-") as tmp:
            for i in range(args.n):
                state = os.path.join(tmp, f"card-{i}.json")
                create_blank(state, f"62170012{i:011d}")
                data = holder(i, rng)

                t0 = time.perf_counter()
                proc = lab.start_virtual_card(state, args.slot)
                try:
                    counter = reader.slot_status(reader_name)[1]
                    t1 = time.perf_counter()
                    with reader.connect(reader_name) as conn:
                        journal = Journal.open(os.path.join(tmp, f"job-{i}.json"), f"B{i}")
                        result = personalise(conn, data, sam, journal)  # raises unless verified
                    t2 = time.perf_counter()
                finally:
                    lab.stop(proc)
                lab.wait_for_no_card(reader_name, counter)
                t3 = time.perf_counter()

                insert_times.append(t1 - t0)
                per_card.append(t2 - t1)
                pull_times.append(t3 - t2)
                apdus.append(result.apdus)
    finally:
        lab.stop(pcscd)
    total = time.perf_counter() - started

    rows = [
        ("cards personalised + verified", f"{args.n} in reader {reader_name!r}, one card process per card"),
        ("APDUs per card", f"{statistics.mean(apdus):.0f} (min {min(apdus)}, max {max(apdus)})"),
        ("time per card (chip work)", f"median {_ms(statistics.median(per_card))}, p95 {_ms(pct(per_card, 95))}, "
                                      f"max {_ms(max(per_card))}"),
        ("time per APDU (median card)", _ms(statistics.median(per_card) / statistics.median(apdus))),
        ("insert (until pcscd sees it)", f"median {_ms(statistics.median(insert_times))}, "
                                         f"p95 {_ms(pct(insert_times, 95))}"),
        ("pull (until pcscd sees it)", f"median {_ms(statistics.median(pull_times))}, "
                                       f"p95 {_ms(pct(pull_times, 95))}"),
        ("cards/s, chip work only", f"{args.n / sum(per_card):.1f}"),
        ("cards/s, with insert + pull", f"{args.n / total:.2f} ({total:.1f} s in all)"),
    ]
    for label, value in rows:
        print(f"{label:<30} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
