"""``python -m hardware station``: the command line of the card station."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

from .. import errors
from ..pinpad import PIN_PADS
from ..printer import PngQueuePrinter, find_font
from ..security import SimulatedSecurityModule

log = logging.getLogger(__name__)

from ..protocol import PLATFORM_ENV, STATION_ID_ENV, TOKEN_ENV
from .client import PlatformClient
from .errors import (
    EXIT_CONFIG,
    EXIT_PLATFORM_GONE,
    EXIT_UNAUTHORIZED,
    PlatformGaveUpError,
    StationError,
    UnauthorizedError,
)
from .runner import Station
from .spool import Spool


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``python -m hardware station``."""
    env = os.environ.get
    parser.add_argument(
        "--platform",
        default=env(PLATFORM_ENV),
        help=f"platform base URL, e.g. https://sscard.example/ (env {PLATFORM_ENV})",
    )
    parser.add_argument(
        "--token",
        default=None,
        help=f"station token (prefer env {TOKEN_ENV}: arguments are visible to other users)",
    )
    parser.add_argument(
        "--station-id",
        default=env(STATION_ID_ENV),
        help=f"this station's id (env {STATION_ID_ENV})",
    )
    parser.add_argument("--reader", default=None, help="reader name (default: the first reader)")
    parser.add_argument(
        "--spool", default="var/station/spool", help="local job folder (default: %(default)s)"
    )
    parser.add_argument(
        "--queue",
        default="var/station/print-queue",
        help="card-face print queue (default: %(default)s)",
    )
    parser.add_argument(
        "--poll",
        type=float,
        default=5.0,
        help="seconds between claims when idle (default: %(default)s)",
    )
    parser.add_argument(
        "--card-wait",
        type=float,
        default=120.0,
        help="seconds a job waits for a pulled card to come back (default: %(default)s)",
    )
    parser.add_argument(
        "--platform-wait",
        type=float,
        default=0.0,
        help="exit (code 4) after the platform was unreachable this long; 0 = retry forever",
    )
    parser.add_argument(
        "--http-timeout",
        type=float,
        default=10.0,
        help="seconds per HTTP request (default: %(default)s)",
    )
    parser.add_argument(
        "--once", action="store_true", help="process at most one job and exit (tests)"
    )
    parser.add_argument(
        "--virtual-cards",
        metavar="DIR",
        default=None,
        help="demo/test aid: before each issue job put the virtual blank card "
        "DIR/<expected bank card number>.json in the (virtual) --reader; before a job on a "
        "card in use (change_pin, reset_pin, block, rewrite_region) the holder's virtual card "
        "of DIR (made as an issued card from the job's complete card data the first time)",
    )
    parser.add_argument(
        "--pin-pad",
        choices=sorted(PIN_PADS),
        default=None,
        help="where holders type PINs for change_pin jobs: console (this terminal, hidden "
        "input) or demo (fixed answers: old 000000, new 123456). Default: demo with "
        "--virtual-cards, console otherwise",
    )


def main(args: argparse.Namespace) -> int:
    """Run the station; exit codes: 0 ok, 2 configuration, 3 token rejected, 4 platform gone."""
    token = args.token or os.environ.get(TOKEN_ENV)
    missing = [
        name
        for name, value in (
            ("--platform", args.platform),
            ("--station-id", args.station_id),
            (f"--token / {TOKEN_ENV}", token),
        )
        if not value
    ]
    if missing:
        print(f"错误 Error: 缺少参数 missing: {', '.join(missing)}", file=sys.stderr)
        return EXIT_CONFIG
    if urllib.parse.urlsplit(args.platform).scheme not in ("http", "https"):
        print(
            f"错误 Error: 平台地址应以 https:// 开头 (the platform URL must be http(s)://): {args.platform}",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    cards = None
    if getattr(args, "virtual_cards", None):
        try:
            from ..feeder import VirtualCardFeeder  # the demo's simulator: only when asked for

            cards = VirtualCardFeeder(args.virtual_cards, args.reader)
        except StationError as e:
            print(f"错误 Error: {e}", file=sys.stderr)
            return EXIT_CONFIG
    find_font()  # a station that cannot print must say so before it claims a job
    spool = Spool(args.spool)
    previous_term = None
    if cards is not None and threading.current_thread() is threading.main_thread():
        previous_term = signal.signal(signal.SIGTERM, _terminate)  # so the finally pulls the card
    try:
        station = Station(
            PlatformClient(args.platform, token, args.station_id, args.http_timeout),
            spool,
            PngQueuePrinter(args.queue),
            SimulatedSecurityModule(),
            args.reader,
            card_wait=args.card_wait,
            poll=args.poll,
            platform_wait=args.platform_wait,
            cards=cards,
            pin_pad=PIN_PADS[pin_pad_name(args)](),
        )
        log.info(
            "station %s: platform %s, reader %s, spool %s, PIN pad %s%s",
            args.station_id,
            args.platform,
            args.reader or "(first)",
            spool.root,
            pin_pad_name(args),
            f", virtual cards {cards.directory}" if cards else "",
        )
        return station.run(once=args.once)
    except UnauthorizedError as e:
        print(f"错误 Error: {e}", file=sys.stderr)
        return EXIT_UNAUTHORIZED
    except PlatformGaveUpError as e:
        print(f"错误 Error: {e}", file=sys.stderr)
        return EXIT_PLATFORM_GONE
    finally:
        try:
            if cards is not None:
                cards.close()  # the card process the station started goes with it
        except errors.HardwareError as e:
            log.warning("could not pull the virtual card: %s", e.en)
        finally:
            spool.close()
            if previous_term is not None:
                signal.signal(signal.SIGTERM, previous_term)


def pin_pad_name(args: argparse.Namespace) -> str:
    """--pin-pad, or its default: the demo pad for the demo station (--virtual-cards)."""
    chosen = getattr(args, "pin_pad", None)
    if chosen:
        return chosen
    return "demo" if getattr(args, "virtual_cards", None) else "console"


def _terminate(signum, frame):
    """SIGTERM (e.g. the single-machine launcher stopping): exit through the ``finally``
    blocks. Jobs are crash-safe, so this is no worse than being killed."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(128 + signum)
