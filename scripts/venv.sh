#!/usr/bin/env bash
# Creates .venv (Python 3.11) and installs the project into it; $1 = pip extras, e.g. "test".
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
extras=${1:-}
spec="."; [ -n "$extras" ] && spec=".[$extras]"
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e "$spec"
