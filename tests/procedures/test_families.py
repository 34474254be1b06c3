"""Procedure families: one list (app.procedures.FAMILIES) that the web app, the scheduler and
the CLI load alike, with SSCARD_ENGINE_PLUGINS in every one of them."""
import subprocess
import sys
from pathlib import Path

from app.engine.services import registry
from app.procedures import FAMILIES, load_families
from tests.api import build_app

ROOT = Path(__file__).resolve().parents[2]


def test_every_family_declares_its_bpmn_folder_and_processes():
    families = load_families()
    assert [f.name for f in families] == ["application", "calendar", "batch", "distribution", "lifecycle"] and len(FAMILIES) == 5
    for family in families:
        folder = ROOT / family.bpmn_dir
        assert folder.is_dir(), family.name
        ids = {p.stem for p in folder.glob("*.bpmn")}
        assert set(family.processes) <= ids, (family.name, ids)


def test_the_web_process_loads_the_families_and_the_plugins(tmp_path, monkeypatch):
    (tmp_path / "sscard_test_plugin.py").write_text(
        "from app.engine.services import registry\n"
        "@registry.operation('test_plugin.ping')\n"
        "def ping(ctx):\n    return {'pong': True}\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("SSCARD_ENGINE_PLUGINS", "sscard_test_plugin")
    app = build_app(tmp_path)
    assert [f.name for f in app.extensions["sscard"].families] == ["application", "calendar", "batch", "distribution", "lifecycle"]
    assert registry.get("test_plugin.ping") is not None  # the scheduler would have it too
    assert registry.get("calendar.enter_notice") is not None and registry.get("police.verify") is not None
    app.extensions["sscard"].engine.dispose()


def test_the_standalone_scheduler_loads_the_same_list(tmp_path):
    """python -m app.scheduler hands the engine's scheduler what loads the families (and wires
    the engine's forms and calendar), then refuses to run without a database."""
    code = ("import app.scheduler as s\n"
            "s.load()\n"
            "from app.engine import ports\n"
            "assert ports.forms().has_form('application.apply')\n"
            "from app.engine.services import registry\n"
            "print(sorted(n for n in ('police.verify', 'calendar.enter_notice') if registry.get(n)))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['calendar.enter_notice', 'police.verify']"
    r = subprocess.run([sys.executable, "-m", "app.scheduler"], cwd=ROOT, capture_output=True,
                       text=True, env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 2 and "DATABASE_URL" in r.stderr
