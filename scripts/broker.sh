#!/usr/bin/env bash
# Runs private RabbitMQ nodes for the demo, the integration tests and CI.
#
# Usage: scripts/broker.sh COMMAND [ARG]
#
#   install      Installs Debian's rabbitmq-server when it is missing (apt, as root or via sudo).
#   start        Starts this node detached and waits until AMQP accepts connections.
#                Does nothing when the node is already up. Installs first when needed.
#   stop         Stops this node and waits until its process is gone.
#   restart      stop, then start.
#   status       Exits 0 when this node is up and running its broker, 1 otherwise.
#   url          Prints the AMQP URL of the default vhost.
#   vhost NAME   Creates vhost NAME (if missing), grants guest full permissions on it and
#                prints its AMQP URL.
#   delete-vhost NAME
#                Deletes vhost NAME and everything in it (no error when it is missing).
#   user NAME PASSWORD VHOST
#                Creates (or updates) user NAME with full permissions on VHOST; prints the URL.
#   ctl ARGS...  Runs rabbitmqctl ARGS against this node (tests read queue arguments with it).
#   pid          Prints the OS pid of this node's Erlang VM (exits 1 when there is none).
#
# A node is never the system's default one: everything it owns lives in its own directory.
#
#   FLEET_BROKER_NAME     node name before "@localhost"            (default: fleet)
#   FLEET_BROKER_PORT     AMQP port on 127.0.0.1                   (default: 5672)
#   FLEET_BROKER_DIR      data, logs, config, pid file and HOME    (default:
#                         <repo>/target/rabbitmq/<name>)
#   FLEET_BROKER_TIMEOUT  seconds to wait for start or stop        (default: 90)
#
# The Erlang distribution port is the AMQP port + 20000, so nodes with different names and
# ports run side by side, e.g. "fleet" on 5672 for the demo, "fleet-test" on 5682 for tests.
# All listeners (AMQP, distribution and epmd when this script starts it) bind to loopback only.
# The only user is RabbitMQ's default guest/guest, which may connect from loopback only.
set -euo pipefail

repo_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
name="${FLEET_BROKER_NAME:-fleet}"
port="${FLEET_BROKER_PORT:-5672}"
dir="$(realpath -m "${FLEET_BROKER_DIR:-$repo_dir/target/rabbitmq/$name}")"
timeout="${FLEET_BROKER_TIMEOUT:-90}"
node="$name@localhost"
dist_port=$((port + 20000))
pid_file="$dir/rabbitmq.pid"
startup_log="$dir/log/startup.log"

die() {
    echo "broker.sh: $*" >&2
    exit 1
}

# Finds RabbitMQ's own scripts. Debian's /usr/sbin wrappers switch to the "rabbitmq" user and
# use the system node's settings, so the unwrapped scripts under /usr/lib/rabbitmq/bin are
# preferred; other installations put unwrapped scripts on PATH.
find_sbin() {
    if [[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]]; then
        echo /usr/lib/rabbitmq/bin
    elif command -v rabbitmq-server >/dev/null 2>&1; then
        dirname "$(command -v rabbitmq-server)"
    fi
}

# Exports the environment that makes RabbitMQ's scripts (server and CLI alike) address this
# node and nothing else. HOME is the node's directory so its Erlang cookie is its own.
node_env() {
    export HOME="$dir"
    unset XDG_CONFIG_HOME
    export RABBITMQ_NODENAME="$node"
    export RABBITMQ_USE_LONGNAME=false
    export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    export RABBITMQ_NODE_PORT="$port"
    export RABBITMQ_DIST_PORT="$dist_port"
    export RABBITMQ_MNESIA_BASE="$dir/mnesia"
    export RABBITMQ_LOG_BASE="$dir/log"
    export RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf"
    export RABBITMQ_CONFIG_FILES="$dir/conf.d"
    export RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config"
    export RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
    export RABBITMQ_PID_FILE="$pid_file"
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    # Every CLI call needs a distribution port of its own; the default range holds only eleven,
    # too few for parallel test processes on several nodes.
    export RABBITMQ_CTL_DIST_PORT_MIN="${RABBITMQ_CTL_DIST_PORT_MIN:-35672}"
    export RABBITMQ_CTL_DIST_PORT_MAX="${RABBITMQ_CTL_DIST_PORT_MAX:-35771}"
    export ERL_EPMD_ADDRESS=127.0.0.1
}

# Writes the node's own configuration files, overwriting earlier ones so that a change here
# takes effect on the next start. The system's /etc/rabbitmq files are never read.
write_config() {
    mkdir -p "$dir/mnesia" "$dir/log" "$dir/conf.d"
    printf '# Settings come from scripts/broker.sh; this file stops /etc/rabbitmq being read.\n' \
        >"$dir/rabbitmq-env.conf"
    printf '[].\n' >"$dir/enabled_plugins"
    printf '[].\n' >"$dir/advanced.config"
    cat >"$dir/rabbitmq.conf" <<EOF
# Written by scripts/broker.sh for node $node.
listeners.tcp.default = 127.0.0.1:$port
log.file.level = info
log.console = false
EOF
    write_cookie
}

# Gives the node a random Erlang cookie of its own, once; server and CLI both read it from HOME.
write_cookie() {
    local cookie="$dir/.erlang.cookie"
    if [[ ! -s "$cookie" ]]; then
        (umask 077 && head -c 30 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$cookie")
        chmod 400 "$cookie"
    fi
}

# Runs rabbitmqctl against this node. stdin is closed so a caller's pipe never leaks into it.
ctl() {
    node_env
    "$sbin/rabbitmqctl" -n "$node" "$@" </dev/null
}

# Prints the pid recorded in the pid file when that process is alive and is this node's VM.
# The VM's command line carries "-home <dir>", which tells it apart from an unrelated process
# that reuses a stale pid, so stop and kill never hit a stranger.
live_pid() {
    local pid
    [[ -s "$pid_file" ]] || return 1
    pid="$(tr -dc '0-9' <"$pid_file")"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r "/proc/$pid/cmdline" ]]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "-home $dir " || return 1
    fi
    echo "$pid"
}

# True when something accepts TCP connections on the AMQP port.
amqp_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

# True when the VM is alive and the broker application inside it has fully booted.
node_up() {
    live_pid >/dev/null && ctl status >/dev/null 2>&1
}

# Starts epmd bound to loopback with its output detached from ours: otherwise the first Erlang
# process to need it spawns it holding the caller's stdout, and a caller reading that pipe to its
# end would wait for as long as epmd lives.
ensure_epmd() {
    if ! epmd -names >/dev/null 2>&1; then
        ERL_EPMD_ADDRESS=127.0.0.1 setsid epmd -daemon </dev/null >/dev/null 2>&1 || true
    fi
}

print_log_tail() {
    local f
    for f in "$startup_log" "$dir/log/$node.log"; do
        if [[ -f "$f" ]]; then
            echo "--- last lines of $f ---" >&2
            tail -n 40 "$f" >&2
        fi
    done
}

cmd_install() {
    if [[ -n "$(find_sbin)" ]]; then
        return 0
    fi

    local sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "rabbitmq-server is missing and not root: no sudo"
        sudo=(sudo)
    fi

    "${sudo[@]}" apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y rabbitmq-server
    [[ -n "$(find_sbin)" ]] || die "rabbitmq-server is still missing after apt-get install"
}

cmd_start() {
    if [[ -z "$sbin" ]]; then
        cmd_install
        sbin="$(find_sbin)"
    fi

    if node_up; then
        return 0
    fi

    # A VM that is alive but not serving (half booted or wedged) is replaced, not waited for.
    if live_pid >/dev/null; then
        cmd_stop
    fi

    if amqp_open; then
        die "port $port already accepts connections but node $node is not running there"
    fi

    write_config
    ensure_epmd
    rm -f "$pid_file"

    local started=$SECONDS
    node_env
    (cd "$dir" && setsid "$sbin/rabbitmq-server" &) </dev/null >"$startup_log" 2>&1

    # The broker writes its pid file early in boot; await_startup then blocks until the broker
    # is fully up, which is when its AMQP listener accepts connections.
    while ! live_pid >/dev/null; do
        if ((SECONDS - started >= timeout)); then
            print_log_tail
            die "node $node wrote no live pid within ${timeout}s"
        fi
        sleep 0.2
    done

    local left=$((timeout - (SECONDS - started)))
    if ! ctl await_startup --timeout "$((left > 1 ? left : 1))" >/dev/null 2>&1 || ! amqp_open; then
        print_log_tail
        die "node $node did not accept AMQP on 127.0.0.1:$port within ${timeout}s"
    fi

    echo "broker.sh: node $node up on amqp://127.0.0.1:$port in $((SECONDS - started))s" >&2
}

cmd_stop() {
    local pid
    if ! pid="$(live_pid)"; then
        rm -f "$pid_file"
        return 0
    fi

    # A clean stop lets quorum queues and message stores flush; the kill is the fallback for a
    # node that no longer answers its CLI.
    if ! ctl stop >/dev/null 2>&1; then
        echo "broker.sh: rabbitmqctl stop failed for $node; sending SIGTERM to $pid" >&2
        kill -TERM "$pid" 2>/dev/null || true
    fi

    local started=$SECONDS
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS - started >= timeout)); then
            echo "broker.sh: $node (pid $pid) still alive after ${timeout}s; SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.1
    done
    rm -f "$pid_file"
}

cmd_vhost() {
    local vhost="${1:-}"
    [[ -n "$vhost" ]] || die "usage: broker.sh vhost NAME"
    [[ "$vhost" =~ ^[A-Za-z0-9._-]+$ ]] || die "vhost name must match [A-Za-z0-9._-]+: $vhost"

    ctl add_vhost "$vhost" >/dev/null 2>&1 || ctl list_vhosts name 2>/dev/null \
        | grep -qx -- "$vhost" || die "could not create vhost $vhost on $node"
    ctl set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null \
        || die "could not grant guest permissions on vhost $vhost"
    echo "amqp://guest:guest@127.0.0.1:$port/$vhost"
}

cmd_delete_vhost() {
    local vhost="${1:-}"
    [[ -n "$vhost" ]] || die "usage: broker.sh delete-vhost NAME"
    ctl delete_vhost "$vhost" >/dev/null 2>&1 || true
}

cmd_user() {
    local user="${1:-}" password="${2:-}" vhost="${3:-}"
    [[ -n "$user" && -n "$password" && -n "$vhost" ]] \
        || die "usage: broker.sh user NAME PASSWORD VHOST"
    [[ "$user" =~ ^[A-Za-z0-9._-]+$ ]] || die "user name must match [A-Za-z0-9._-]+: $user"

    # The password goes to rabbitmqctl on its standard input, never on a command line that
    # other processes could read.
    if ! ctl list_users --silent 2>/dev/null | cut -f1 | grep -qx -- "$user"; then
        node_env
        printf '%s' "$password" | "$sbin/rabbitmqctl" -n "$node" add_user "$user" >/dev/null \
            || die "could not create user $user"
    else
        node_env
        printf '%s' "$password" \
            | "$sbin/rabbitmqctl" -n "$node" change_password "$user" >/dev/null \
            || die "could not set the password of $user"
    fi
    ctl set_permissions -p "$vhost" "$user" '.*' '.*' '.*' >/dev/null \
        || die "could not grant $user permissions on vhost $vhost"
    echo "amqp://$user:***@127.0.0.1:$port/$vhost"
}

sbin="$(find_sbin)"
command="${1:-}"
shift || true

case "$command" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart)
        cmd_stop
        cmd_start
        ;;
    status)
        [[ -n "$sbin" ]] && node_up
        ;;
    url) echo "amqp://guest:guest@127.0.0.1:$port/%2f" ;;
    vhost) cmd_vhost "$@" ;;
    delete-vhost) cmd_delete_vhost "$@" ;;
    user) cmd_user "$@" ;;
    ctl) ctl "$@" ;;
    pid) live_pid ;;
    *)
        sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
        exit 2
        ;;
esac
