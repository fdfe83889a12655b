#!/usr/bin/env bash
# Start/stop all development/CI services (loopback only), or print their URLs as
# `export ...` lines for `eval "$(config/services/all.sh env)"`.
# Each service is config/services/<name>.sh supporting start|stop|status|env.
# Usage: all.sh start|stop|status|env
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
SERVICES=(postgres rabbitmq dovecot postfix sshd)

case "${1:-}" in
  start|env) for s in "${SERVICES[@]}"; do "$HERE/$s.sh" "$1"; done ;;
  stop|status)  # keep going past failures so every service gets stopped/reported
    rc=0
    for s in "${SERVICES[@]}"; do "$HERE/$s.sh" "$1" || rc=1; done
    exit "$rc" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
