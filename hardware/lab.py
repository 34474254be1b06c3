"""Local PC/SC lab 本机读卡环境: pcscd and virtual cards as processes.

Used by the command line (``python -m hardware virtual-card``), the start script and the test
fixtures. Only one pcscd can run per machine (it hard-codes /run/pcscd): reuse a running one.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

from . import errors, reader
from .virtual_card import VPCD_PORTS

VIRTUAL_READERS = ("Virtual PCD 00 00", "Virtual PCD 00 01")


def pcscd_running() -> bool:
    try:
        reader.list_readers()
        return True
    except errors.NoPcscdError:
        return False


def start_pcscd(timeout: float = 15.0) -> subprocess.Popen | None:
    """Start pcscd in the foreground as a child unless one runs; None when reusing one."""
    if pcscd_running():
        return None
    exe = shutil.which("pcscd") or "/usr/sbin/pcscd"
    if not os.path.exists(exe):
        raise errors.NoPcscdError("未安装 pcscd（Debian 包 pcscd），请先运行安装脚本",
                                  "pcscd is not installed (Debian package pcscd); run the install script")
    # Never --auto-exit: it quits after ~60 s idle. pcscd cleans stale files of a killed one.
    proc = subprocess.Popen([exe, "--foreground"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise errors.NoPcscdError(f"pcscd 启动失败（退出码 {proc.returncode}）",
                                      f"pcscd failed to start (exit code {proc.returncode})")
        try:
            if VIRTUAL_READERS[0] in reader.list_readers():
                return proc
        except errors.NoPcscdError:
            pass
        time.sleep(0.05)
    stop(proc)
    raise errors.NoPcscdError("pcscd 启动超时或没有虚拟读卡器（vsmartcard-vpcd）",
                              "pcscd did not come up with the virtual reader (vsmartcard-vpcd)")


def start_virtual_card(state_path: str, slot: int = 0, faults: list[str] = (),
                       wait: bool = True, timeout: float = 15.0) -> subprocess.Popen:
    """Insert a virtual card (its own process) into virtual reader ``slot``."""
    cmd = [sys.executable, "-m", "hardware", "virtual-card", state_path, "--port", str(VPCD_PORTS[slot])]
    for f in faults:
        cmd += ["--fault", f]
    env = dict(os.environ, PYTHONPATH=_project_root() + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    if wait:
        try:
            wait_for_card(VIRTUAL_READERS[slot], timeout, proc)
        except BaseException:
            stop(proc)
            raise
    return proc


def wait_for_card(reader_name: str, timeout: float = 15.0, proc: subprocess.Popen | None = None) -> None:
    """Poll until the card answers in ``reader_name`` (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise errors.NoCardError(f"虚拟卡进程已退出（{proc.returncode}）",
                                     f"virtual card process exited ({proc.returncode})")
        try:
            reader.connect(reader_name, timeout=0).close()
            return
        except errors.HardwareError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.05)


def wait_for_no_card(reader_name: str, present_counter: int, timeout: float = 15.0) -> None:
    """Poll until pcscd's slot poll has registered that the card left ``reader_name``.

    ``present_counter`` is the slot's event counter while the card was in. A card put back
    before pcscd registered the removal would look like the old card still sitting there
    (never powered up again), so re-insertion must wait for this.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state, counter = reader.slot_status(reader_name)
        if state == "empty" and counter != present_counter:
            return
        time.sleep(0.02)
    raise errors.CardTimeoutError("等待拔卡超时", "timed out waiting for the card to leave the reader")


def stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


def _project_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
