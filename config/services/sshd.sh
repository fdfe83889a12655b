#!/usr/bin/env bash
# Development/CI OpenSSH sshd on loopback only, for SFTP: a private instance (own config,
# host key, log and authorized keys) with state in ${ERS_SERVICES_DIR:-<repo>/var/services}/sshd.
# Two SFTP-only system users (ers-partner1, ers-partner2) log in with the test password or
# the test key ($DIR/client_ed25519); each is chrooted to $DIR/chroot/<user> and may write
# only below /files. No shell, no forwarding. Never touches /etc/ssh/sshd_config or a
# system sshd. Installs openssh-server if missing. No systemd needed; must run as root.
# Usage: sshd.sh start|stop|restart|status|env
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
# Absolute and symlink-free: sshd wants absolute paths and checks every real parent.
DIR="$(realpath -m "${ERS_SERVICES_DIR:-$ROOT/var/services}/sshd")"
PORT="${ERS_SFTP_PORT:-52222}"
USERS=(ers-partner1 ers-partner2)
PASSWORD=ers-test-sftp
CONF="$DIR/sshd_config"
PIDFILE="$DIR/sshd.pid"
LOG="$DIR/sshd.log"
HOSTKEY="$DIR/ssh_host_ed25519_key"
CLIENTKEY="$DIR/client_ed25519"
# Chroots + authorized keys if $DIR's parents fail sshd's rules; one dir per state dir so
# two checkouts don't overwrite each other's authorized keys.
FALLBACK="/var/lib/ers-sftp/$(printf %s "$DIR" | md5sum | cut -c1-8)"

# Our recorded PID is alive and is an sshd started with our config (guards against PID
# reuse and never touches a system sshd). sshd rewrites its title to "sshd: <argv>
# [listener] ...", so match "-f CONF" inside the space-joined command line.
pid_alive() {
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
  [[ -n "$pid" && "$(readlink "/proc/$pid/exe" 2>/dev/null)" == /usr/sbin/sshd ]] || return 1
  { tr '\0' ' ' <"/proc/$pid/cmdline"; echo " "; } 2>/dev/null | grep -qF -- " -f $CONF "
}
# A dead process stays a zombie until PID 1 reaps it (slowly here); count that as gone.
alive() { local s; s="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1; s="${s##*) }"; [[ "${s%% *}" != Z ]]; }
# The SSH banner, not just an open port: a bare TCP accept could be someone else.
answering() {
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT" && read -r -t 5 line <&3 && [[ "$line" == SSH-2.0-* ]]) 2>/dev/null
}
port_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
# A process and all its descendants. Every connection child calls setsid(), so no
# process group or session covers them; walk the tree instead.
tree() { local c; echo "$1"; for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree "$c"; done; }

install() {
  [[ -x /usr/sbin/sshd ]] && return
  echo "sshd: installing openssh-server ..."
  # Keep the package's postinst from starting a system sshd (it would listen on :22 on
  # all interfaces): invoke-rc.d honours policy-rc.d exit 101 = "don't".
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null
  if trap -p EXIT | grep -q policy-rc.d; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
  # Not ours to stop, but say so.
  port_busy 22 && echo "sshd: WARNING: something we did not start listens on :22" >&2
  return 0
}

# Host key and test client key, made once and kept (tests pin the host key). Only
# needs ssh-keygen (openssh-client), so "env" can make them before the first start.
keys() {
  mkdir -p "$DIR"
  [[ -s "$HOSTKEY" ]] || ssh-keygen -q -t ed25519 -N '' -C ers-sftp-host -f "$HOSTKEY" </dev/null >/dev/null
  [[ -s "$CLIENTKEY" ]] || ssh-keygen -q -t ed25519 -N '' -C ers-test-sftp-client -f "$CLIENTKEY" </dev/null >/dev/null
}

# sshd's rule for ChrootDirectory (and StrictModes for authorized_keys): the directory
# and every parent up to / root-owned and not group/other-writable.
root_safe() {
  local p="$1" st
  while :; do
    st="$(stat -Lc '%u %a' "$p" 2>/dev/null)" || return 1
    [[ "${st%% *}" == 0 ]] && (( (8#${st#* } & 8#022) == 0 )) || return 1
    [[ "$p" == / ]] && return 0
    p="$(dirname "$p")"
  done
}

# Where chroots and authorized keys live: under $DIR when its path satisfies sshd
# (e.g. a root-owned checkout), else $FALLBACK (e.g. a CI runner's user-owned workspace).
safe_base() {
  if root_safe "$DIR"; then echo "$DIR"; return; fi
  echo "sshd: $DIR has a parent not root-owned or group/other-writable; chroots go to $FALLBACK" >&2
  mkdir -p "$FALLBACK"; chmod 755 /var/lib/ers-sftp "$FALLBACK"
  root_safe "$FALLBACK" || { echo "sshd: $FALLBACK is not root-safe either" >&2; exit 1; }
  echo "$FALLBACK"
}

# SFTP-only users with the test password (UsePAM no: sshd checks /etc/shadow itself, and
# a locked "!" password would refuse even key logins), their chroot and writable /files.
users() {
  local base="$1" u
  mkdir -p "$base/chroot" "$base/authorized_keys"
  chmod 755 "$base/chroot" "$base/authorized_keys"
  for u in "${USERS[@]}"; do
    id -u "$u" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$u"
    printf '%s:%s\n' "$u" "$PASSWORD" | chpasswd
    mkdir -p "$base/chroot/$u/files"
    chown root:root "$base/chroot/$u"; chmod 755 "$base/chroot/$u"
    chown "$u:" "$base/chroot/$u/files"; chmod 755 "$base/chroot/$u/files"
    cp "$CLIENTKEY.pub" "$base/authorized_keys/$u"
    chown root:root "$base/authorized_keys/$u"; chmod 644 "$base/authorized_keys/$u"
  done
}

# Written on every start so port/paths follow the env vars. No Include: only what is
# listed here applies (nothing from /etc/ssh/sshd_config.d).
write_conf() {
  local base="$1"
  # PerSourcePenalties (OpenSSH >= 9.8) would shut 127.0.0.1 out after the wrong
  # passwords tests try on purpose; older sshd rejects the unknown keyword.
  local penalties=""
  grep -qai persourcepenalties /usr/sbin/sshd && penalties="PerSourcePenalties no"
  cat >"$CONF" <<EOF
# Generated by config/services/sshd.sh; edits are overwritten on start.
ListenAddress 127.0.0.1
AddressFamily inet
Port $PORT
HostKey $HOSTKEY
# sshd.sh records the pid itself; none from sshd.
PidFile none
UsePAM no
PermitRootLogin no
AllowUsers ${USERS[*]}
PasswordAuthentication yes
PermitEmptyPasswords no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile $base/authorized_keys/%u
StrictModes yes
UseDNS no
PrintMotd no
PermitTTY no
PermitTunnel no
PermitUserEnvironment no
X11Forwarding no
AllowAgentForwarding no
AllowTcpForwarding no
AllowStreamLocalForwarding no
GatewayPorts no
ChrootDirectory $base/chroot/%u
ForceCommand internal-sftp
Subsystem sftp internal-sftp
# Tests open many connections at once; don't drop unauthenticated ones early.
MaxStartups 100:30:200
$penalties
LogLevel VERBOSE
EOF
}

start() {
  if pid_alive && answering; then echo "sshd: already running (pid $(cat "$PIDFILE"))"; return; fi
  pid_alive && { echo "sshd: pid $(cat "$PIDFILE") alive but not answering; stopping it first"; stop; }
  if port_busy "$PORT"; then echo "sshd: 127.0.0.1:$PORT is taken by a process we did not start" >&2; exit 1; fi
  install
  keys
  local base; base="$(safe_base)"
  users "$base"
  write_conf "$base"
  # Privilege separation dir, normally made by the (unused) system unit.
  [[ -d /run/sshd ]] || { mkdir -p /run/sshd; chmod 755 /run/sshd; }
  /usr/sbin/sshd -t -f "$CONF"   # fail early, with sshd's message, on a bad config
  echo "sshd: starting SFTP on 127.0.0.1:$PORT (chroots in $base/chroot) ..."
  # -D: stay in the foreground so $! is the listener itself (no daemonising, no pid guessing).
  setsid /usr/sbin/sshd -D -f "$CONF" -E "$LOG" </dev/null >>"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  local t=0
  until answering; do
    if ! alive "$(cat "$PIDFILE")" || (( t >= 60 )); then
      echo "sshd: failed to start (after $((t / 2))s); log tail:" >&2
      tail -n 30 "$LOG" >&2 || true
      stop >&2; exit 1
    fi
    sleep 0.5; t=$((t + 1))   # t counts half-seconds: give up after 30 s
  done
  echo "sshd: ready (pid $(cat "$PIDFILE"))"
}

stop() {
  if pid_alive; then
    local pid all prev="" p; pid="$(cat "$PIDFILE")"
    echo "sshd: stopping pid $pid ..."
    # The listener does not end its connections on SIGTERM. Freeze it (no new forks) and
    # its tree until the set is stable, then SIGKILL the connection processes so open
    # SFTP sessions really drop, and let the frozen listener take its SIGTERM.
    kill -STOP "$pid" 2>/dev/null || true
    for _ in 1 2 3 4 5; do
      all="$(tree "$pid" | tr '\n' ' ')"
      # shellcheck disable=SC2086
      kill -STOP $all 2>/dev/null || true
      [[ "$all" == "$prev" ]] && break
      prev="$all"
    done
    for p in $all; do [[ "$p" == "$pid" ]] || kill -9 "$p" 2>/dev/null || true; done
    kill -TERM "$pid" 2>/dev/null || true
    kill -CONT "$pid" 2>/dev/null || true
    for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then echo "sshd: still alive, killing"; kill -9 "$pid" || true; sleep 0.2; fi
    echo "sshd: stopped"
  else
    echo "sshd: not running"
  fi
  rm -f "$PIDFILE"
}

status() {
  if pid_alive && answering; then echo "sshd: running (pid $(cat "$PIDFILE")) sftp://127.0.0.1:$PORT"
  elif pid_alive; then echo "sshd: pid $(cat "$PIDFILE") alive but not answering"; return 1
  else echo "sshd: stopped"; return 3; fi
}

case "${1:-}" in
  start|stop|status) "$1" ;;
  restart) stop; start ;;
  env)
    command -v ssh-keygen >/dev/null && keys
    echo "export ERS_TEST_SFTP_HOST='127.0.0.1'"
    echo "export ERS_TEST_SFTP_PORT='$PORT'"
    echo "export ERS_TEST_SFTP_HOST_KEY='$(cut -d' ' -f1,2 "$HOSTKEY.pub" 2>/dev/null)'"
    echo "export ERS_TEST_SFTP_USERS='${USERS[*]}'"
    echo "export ERS_TEST_SFTP_PASSWORD='$PASSWORD'"
    echo "export ERS_TEST_SFTP_KEY='$CLIENTKEY'" ;;
  *) echo "usage: $0 start|stop|restart|status|env" >&2; exit 2 ;;
esac
