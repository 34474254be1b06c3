#!/usr/bin/env bash
# Installs the Debian packages the platform needs when they are missing (idempotent).
#   pcscd + vsmartcard-vpcd: the PC/SC daemon and the virtual reader driver
#   libpcsclite-dev + swig: to compile pyscard (no Linux wheel on PyPI)
#   pcsc-tools + opensc: independent clients (scriptor, opensc-tool) used by the tests
#   fonts-wqy-zenhei: a CJK font for the printed card face and the documents (PDF)
#   libpango-1.0-0 + libpangoft2-1.0-0: WeasyPrint renders the documents to PDF with them
#   chromium + chromium-driver: the browser tests (only with --test)
set -euo pipefail
want=(pcscd libpcsclite-dev vsmartcard-vpcd pcsc-tools opensc fonts-wqy-zenhei swig gcc
      libpango-1.0-0 libpangoft2-1.0-0)
[ "${1:-}" = "--test" ] && want+=(chromium chromium-driver)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing Debian packages: ${missing[*]}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
