#!/usr/bin/env bash
# Development/CI RabbitMQ on loopback only. Installs the Debian package if missing and
# runs a private node (own node name, ports, cookie, data and log dirs) with state in
# ${ERS_SERVICES_DIR:-<repo>/var/services}/rabbitmq. No systemd needed; must run as root.
# Usage: rabbitmq.sh start|stop|status|env|ctl ARGS...
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIR="${ERS_SERVICES_DIR:-$ROOT/var/services}/rabbitmq"
PORT="${ERS_RABBIT_PORT:-56721}"
NODE="${ERS_RABBIT_NODE:-ers-rabbit@localhost}"
PIDFILE="$DIR/rabbitmq.pid"
BIN=/usr/lib/rabbitmq/bin   # the /usr/sbin wrappers switch to the rabbitmq user; avoid them
URL="amqp://guest:guest@127.0.0.1:$PORT/%2F"

# Everything (server and rabbitmqctl) sees the same HOME, hence the same .erlang.cookie.
export HOME="$DIR" \
  RABBITMQ_NODENAME="$NODE" \
  RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
  RABBITMQ_NODE_PORT="$PORT" \
  RABBITMQ_DIST_PORT="${ERS_RABBIT_DIST_PORT:-56731}" \
  RABBITMQ_MNESIA_BASE="$DIR/mnesia" \
  RABBITMQ_LOG_BASE="$DIR/log" \
  RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq-env.conf" \
  RABBITMQ_CONFIG_FILE="$DIR/rabbitmq.conf" \
  RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/enabled_plugins" \
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
  ERL_EPMD_ADDRESS=127.0.0.1

ctl() { "$BIN/rabbitmqctl" -q -n "$NODE" "$@"; }

# Our recorded PID (the rabbitmq-server shell, parent of beam) is alive and was started
# from this state dir (checked via its environment, guards against PID reuse).
pid_alive() {
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
  [[ -n "$pid" ]] && tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qxF "HOME=$DIR"
}
answering() { ctl status >/dev/null 2>&1 && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

install() {
  [[ -x "$BIN/rabbitmq-server" ]] && return
  echo "rabbitmq: installing rabbitmq-server ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
}

start() {
  if pid_alive && answering; then echo "rabbitmq: already running (pid $(cat "$PIDFILE"))"; echo "$URL"; return; fi
  pid_alive && { echo "rabbitmq: pid $(cat "$PIDFILE") alive but not answering; stopping it first"; stop; }
  install
  mkdir -p "$DIR/mnesia" "$DIR/log"
  touch "$DIR/rabbitmq-env.conf" "$DIR/rabbitmq.conf"
  [[ -f "$DIR/enabled_plugins" ]] || echo "[]." >"$DIR/enabled_plugins"
  if [[ ! -s "$DIR/.erlang.cookie" ]]; then
    (umask 077; head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$DIR/.erlang.cookie")
    chmod 400 "$DIR/.erlang.cookie"
  fi
  # The node spawns a (shared) epmd daemon if none runs; remember if it was us.
  epmd -names >/dev/null 2>&1 || touch "$DIR/epmd.ours"
  echo "rabbitmq: starting node $NODE on 127.0.0.1:$PORT ..."
  setsid "$BIN/rabbitmq-server" >>"$DIR/log/console.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local t=0
  until answering; do
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null || (( t >= 90 )); then
      echo "rabbitmq: failed to start (after ${t}s); log tail:" >&2
      tail -n 30 "$DIR/log/console.log" "$DIR/log/$NODE.log" >&2 2>/dev/null || true
      stop >&2; exit 1
    fi
    (( t % 10 == 0 )) && echo "rabbitmq: waiting for node ... ${t}s"
    sleep 2; t=$((t + 2))
  done
  echo "rabbitmq: ready after ${t}s (pid $(cat "$PIDFILE"))"
  echo "$URL"
}

stop() {
  if pid_alive; then
    local pid; pid="$(cat "$PIDFILE")"
    echo "rabbitmq: stopping pid $pid ..."
    ctl stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then   # hard kill: beam (our child) first, then the shell
      echo "rabbitmq: still alive, killing"; pkill -9 -P "$pid" || true; kill -9 "$pid" || true; sleep 1
    fi
    echo "rabbitmq: stopped"
  else
    echo "rabbitmq: not running"
  fi
  rm -f "$PIDFILE"
  # Kill epmd only if our start spawned it and no other Erlang node is registered.
  if [[ -f "$DIR/epmd.ours" ]] && ! epmd -names 2>/dev/null | grep -q '^name '; then
    epmd -kill >/dev/null 2>&1 || true
  fi
  rm -f "$DIR/epmd.ours"
}

status() {
  if pid_alive && answering; then echo "rabbitmq: running (pid $(cat "$PIDFILE")) $URL"
  elif pid_alive; then echo "rabbitmq: pid $(cat "$PIDFILE") alive but not answering"; return 1
  else echo "rabbitmq: stopped"; return 3; fi
}

case "${1:-}" in
  start|stop|status) "$1" ;;
  env) echo "export ERS_TEST_AMQP_URL='$URL'" ;;
  ctl) shift; ctl "$@" ;;   # e.g. rabbitmq.sh ctl list_queues (right HOME/cookie and node)
  *) echo "usage: $0 start|stop|status|env|ctl ARGS..." >&2; exit 2 ;;
esac
