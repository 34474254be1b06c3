"""The arrows of the architecture, checked: the import-linter contracts of setup.cfg
([importlinter:contract:*]) must all be kept."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint), "--config", str(ROOT / "setup.cfg")], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "0 broken" in r.stdout
    for contract in ("The engine knows no Flask", "hardware imports nothing",
                     "forms import only app.common", "do not import each other"):
        assert contract in r.stdout
