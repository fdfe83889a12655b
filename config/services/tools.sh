#!/usr/bin/env bash
# Command-line tools the tests use that are not services: pdftoppm (poppler-utils) renders
# every report PDF to PNG to prove it draws. Installs them when missing.
# Usage: tools.sh install
set -euo pipefail

case "${1:-}" in
  install)
    if ! command -v pdftoppm >/dev/null; then
      echo "tools: installing poppler-utils (pdftoppm) ..."
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null
    fi ;;
  *) echo "usage: $0 install" >&2; exit 2 ;;
esac
