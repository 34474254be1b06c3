"""Command line 命令行: ``python -m hardware <command>``.

  readers                         list PC/SC readers
  read                            read the card (holder, card data, state)
  personalise DATA.json           write EF05 + EF06 and verify (resumable with --journal)
  verify DATA.json                compare the card with DATA.json byte for byte
  change-pin OLD NEW | reset-pin NEW | verify-pin PIN
  block                           block the social-security application (lost/replaced card)
  blank-card STATE.json           create a semi-finished virtual card
  virtual-card STATE.json         insert a virtual card into the vpcd reader
  pcscd                           run pcscd (foreground) unless one runs
  station                         run the card station (see hardware/PROTOCOL.md)
"""
from __future__ import annotations

import argparse
import json
import logging
import sys

from . import errors, lab, reader
from .security import SimulatedSecurityModule


def _connect(args) -> reader.CardConnection:
    return reader.connect(args.reader, timeout=args.timeout)


def _load(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _print(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def cmd_readers(args):
    for name in reader.list_readers():
        print(name)


def cmd_read(args):
    from .card import SocialSecurityCard
    with _connect(args) as conn:
        info = SocialSecurityCard(conn).read()
    if args.standard:
        print(info.standard_string())
    else:
        _print(info.as_dict())


def cmd_personalise(args):
    from .personalise import Journal, personalise
    data = _load(args.data)
    journal = Journal.open(args.journal, data.get("job_id", "cli"))
    with _connect(args) as conn:
        result = personalise(conn, data, SimulatedSecurityModule(), journal, args.overwrite)
    _print({"ok": result.ok, "resumed": result.resumed, "apdus": result.apdus, "card": result.card})


def cmd_verify(args):
    from .personalise import verify_card
    with _connect(args) as conn:
        diff = verify_card(conn, _load(args.data))
    _print({"identical": not diff, "differences": diff})
    return 1 if diff else 0


def cmd_verify_pin(args):
    from .card import SocialSecurityCard
    with _connect(args) as conn:
        SocialSecurityCard(conn).verify_pin(args.pin)
    print("PIN OK")


def cmd_change_pin(args):
    from .card import SocialSecurityCard
    with _connect(args) as conn:
        SocialSecurityCard(conn).change_pin(args.old, args.new)
    print("密码已修改 (PIN changed)")


def cmd_reset_pin(args):
    from .card import SocialSecurityCard
    with _connect(args) as conn:
        SocialSecurityCard(conn).reset_pin(args.new, SimulatedSecurityModule())
    print("密码已重置 (PIN reset)")


def cmd_block(args):
    from .card import SocialSecurityCard
    with _connect(args) as conn:
        SocialSecurityCard(conn).block_application(SimulatedSecurityModule())
    print("社保应用已锁定 (application blocked)")


def cmd_blank_card(args):
    from .virtual_card import create_blank
    create_blank(args.state, args.bank_card_number)
    print(args.state)


def cmd_virtual_card(args):
    from .virtual_card import serve
    return serve(args.state, args.host, args.port, args.fault)


def cmd_pcscd(args):
    proc = lab.start_pcscd()
    if proc is None:
        print("pcscd already running")
        return 0
    print("pcscd started; Ctrl-C stops it")
    try:
        return proc.wait()
    except KeyboardInterrupt:
        lab.stop(proc)
        return 0


def cmd_station(args):
    from .station import main as station_main
    return station_main(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m hardware", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    def card_cmd(name, func, help_):
        sp = sub.add_parser(name, help=help_)
        sp.add_argument("--reader", default=None, help="reader name (default: the first)")
        sp.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for a card")
        sp.set_defaults(func=func)
        return sp

    sub.add_parser("readers", help="list readers").set_defaults(func=cmd_readers)
    card_cmd("read", cmd_read, "read the card").add_argument(
        "--standard", action="store_true", help="pipe-separated like the common reader interface")
    sp = card_cmd("personalise", cmd_personalise, "write and verify card data from JSON")
    sp.add_argument("data")
    sp.add_argument("--journal", help="journal file: resume an interrupted job")
    sp.add_argument("--overwrite", action="store_true", help="allow replacing another holder's data")
    card_cmd("verify", cmd_verify, "compare card with JSON").add_argument("data")
    card_cmd("verify-pin", cmd_verify_pin, "check the PIN").add_argument("pin")
    sp = card_cmd("change-pin", cmd_change_pin, "change the PIN")
    sp.add_argument("old")
    sp.add_argument("new")
    card_cmd("reset-pin", cmd_reset_pin, "reset the PIN (centre)").add_argument("new")
    card_cmd("block", cmd_block, "block the social-security application")
    sp = sub.add_parser("blank-card", help="create a semi-finished virtual card")
    sp.add_argument("state")
    sp.add_argument("--bank-card-number", default="6217001234567890123")
    sp.set_defaults(func=cmd_blank_card)
    sp = sub.add_parser("virtual-card", help="insert a virtual card into the vpcd reader")
    sp.add_argument("state")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=35963)
    sp.add_argument("--fault", action="append", default=[], help="e.g. pull@12, stall@UPDATE:3")
    sp.set_defaults(func=cmd_virtual_card)
    sub.add_parser("pcscd", help="run pcscd unless one runs").set_defaults(func=cmd_pcscd)
    sp = sub.add_parser("station", help="run the card station")
    from .station import add_arguments
    add_arguments(sp)
    sp.set_defaults(func=cmd_station)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args) or 0
    except errors.HardwareError as e:
        print(f"错误 Error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
