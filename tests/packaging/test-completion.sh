#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs the bash completion as bash does: sets COMP_WORDS/COMP_CWORD, calls the completion
# function registered for usbip-tool / usbipcored, and checks COMPREPLY. The programs run
# for real against a fake sysfs tree (USBIP_SYSFS_ROOT) with two local devices (1-1 bound to
# usbip-host, 1-2 not), vhci port 0 in use and, for attach -b, a usbipcored exporting 1-1.
#   test-completion.sh COMPLETION-FILE USBIP-TOOL USBIPCORED
# Prints TAP.
COMPLETION=$1 TOOL=$2 DAEMON=$3
ROOT=$(mktemp -d "${TMPDIR:-/tmp}/usbip-completion.XXXXXX")
DAEMON_PID=
cleanup() {
    [[ -n $DAEMON_PID ]] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
    rm -rf "$ROOT"
}
trap cleanup EXIT
[[ -n $KEEP ]] && trap - EXIT

put() { mkdir -p "$(dirname "$ROOT$1")" && printf '%s\n' "$2" >"$ROOT$1"; }
for a in bind unbind rebind match_busid; do put /sys/bus/usb/drivers/usbip-host/$a ""; done
mkdir -p "$ROOT/sys/bus/usb/drivers/usb-storage" "$ROOT/sys/bus/usb/devices"
for busid in 1-1 1-2; do
    d=/sys/devices/pci0000:00/0000:00:14.0/usb1/$busid
    for kv in busnum=1 devnum=${busid#1-} speed=480 idVendor=1d6b idProduct=0104 bcdDevice=0100 \
        bDeviceClass=00 bDeviceSubClass=00 bDeviceProtocol=00 bConfigurationValue=1 \
        bNumConfigurations=1 bNumInterfaces=1; do
        put "$d/${kv%%=*}" "${kv#*=}"
    done
    for kv in bInterfaceClass=08 bInterfaceSubClass=06 bInterfaceProtocol=50; do
        put "$d/$busid:1.0/${kv%%=*}" "${kv#*=}"
    done
    ln -s "$ROOT$d" "$ROOT/sys/bus/usb/devices/$busid"
done
put /sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/usbip_status 1
put /sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/usbip_sockfd ""
ln -s "$ROOT/sys/bus/usb/drivers/usbip-host" "$ROOT/sys/bus/usb/devices/1-1/driver"
ln -s "$ROOT/sys/bus/usb/drivers/usb-storage" "$ROOT/sys/bus/usb/devices/1-2/driver"
vhci=/sys/devices/platform/vhci_hcd.0
put $vhci/nports 2
put $vhci/attach ""
put $vhci/detach ""
put $vhci/status "hub port sta spd dev      sockfd local_busid
hs  0000 006 003 00010002 000005 3-1
ss  0001 004 000 00000000 000000 0-0"
put /none.conf "# defaults"
export USBIP_SYSFS_ROOT=$ROOT USBIP_VHCI_STATE_DIR=$ROOT/var/run/vhci_hcd USBIP_CONFIG=$ROOT/none.conf LC_ALL=C

# shellcheck source=/dev/null
source "$COMPLETION" || { echo "Bail out! cannot load $COMPLETION"; exit 1; }

n=0 failed=0
# zcheck: the same for the zsh function; compadd (which keeps the words matching the one being
# completed, as zsh's does), _files and _hosts print what they get
ZSH_COMPLETION=$(dirname "$COMPLETION")/_usbip-tool
zcheck() {
    local name=$1 expected=$2 got
    shift 2
    n=$((n + 1))
    if ! command -v zsh >/dev/null; then
        echo "ok $n - zsh: $name # SKIP zsh not installed"
        return
    fi
    got=$(zsh -f -c 'compadd() { [[ $1 == -- ]] && shift; local w; for w; do [[ $w == ${words[CURRENT]}* ]] && print -r -- $w; done; }
        _files() { print FILES; }
        _hosts() { print HOSTS; }
        words=("${@:2}") CURRENT=$(($# - 1)) service=${2:t}
        source "$1"' zsh "$ZSH_COMPLETION" "$@" | sort | xargs)
    if [[ $got == "$expected" ]]; then
        echo "ok $n - zsh: $name"
    else
        echo "not ok $n - zsh: $name"
        echo "# words: $*"
        echo "# expected: $expected"
        echo "# got:      $got"
        failed=$((failed + 1))
    fi
}

# check "DESCRIPTION" "EXPECTED (sorted, space-separated)" WORD... (the last word is the one completed)
check() {
    local name=$1 expected=$2 got func
    shift 2
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="$*" COMP_POINT=${#COMP_LINE}
    func=$(complete -p "$(basename "$1")" 2>/dev/null | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
    COMPREPLY=()
    [[ -n $func ]] && "$func" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | xargs)
    n=$((n + 1))
    if [[ $got == "$expected" ]]; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name"
        echo "# words: $*"
        echo "# expected: $expected"
        echo "# got:      $got"
        failed=$((failed + 1))
    fi
}

# The completion calls the program by the name typed (COMP_WORDS[0]); put the build's on PATH.
BIN=$(mktemp -d "$ROOT/bin.XXXXXX")
ln -s "$(realpath "$TOOL")" "$BIN/usbip-tool"
ln -s "$(realpath "$DAEMON")" "$BIN/usbipcored"
PATH=$BIN:$PATH

verbs=$(usbip-tool --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }' | sort -u | xargs)
check "a command completes: att -> attach" "attach" usbip-tool att
check "every command of --help is offered" "$verbs" usbip-tool ""
check "global long options" "--tcp-port --timeout" usbip-tool --t
check "a global option's value is skipped" "attach" usbip-tool -t 3240 att
check "socket tunables are global options" "--keepalive-idle --keepalive-interval --keepalive-probes" usbip-tool --keepalive-
check "a tunable's value is skipped" "attach" usbip-tool --user-timeout 9000 att
check "usbipcored socket tunables" "--rcvbuf" usbipcored --rc
check "--opt=value (three words) is skipped" "attach" usbip-tool --tcp-port = 3240 att
check "nothing is offered for an option's value" "" usbip-tool --timeout ""
check "attach options" "--auto-reconnect --busid --device --help --max-attempts --metrics --remote" usbip-tool attach --
check "detach options" "--help --port" usbip-tool -d detach --
check "bind -b offers local bus IDs (list -l)" "1-1 1-2" usbip-tool bind -b ""
check "unbind --busid offers local bus IDs by prefix" "1-1 1-2" usbip-tool unbind --busid 1-
check "detach -p offers the used ports (port)" "0" usbip-tool detach -p ""
check "trace offers decode" "decode" usbip-tool trace d
check "list -p takes no value: options follow" "--device --help --local --parsable --remote" usbip-tool list -p --
check "usbipcored long options by prefix" "--max-sessions --max-sessions-per-peer" usbipcored --max-s
check "usbipcored --log-format values" "journal json text" usbipcored --log-format ""
zcheck "a command completes: att -> attach" "attach" usbip-tool att
zcheck "every command of --help is offered" "$verbs" usbip-tool ""
zcheck "global options" "--config --debug --help --json --keepalive-idle --keepalive-interval --keepalive-probes --no-keepalive --no-nodelay --rcvbuf --sndbuf --tcp-port --timeout --user-timeout --version -V -c -d -h -j -t" usbip-tool -
zcheck "a global option's value is skipped" "attach" usbip-tool -t 3240 att
zcheck "bind -b offers local bus IDs" "1-1 1-2" usbip-tool bind -b ""
zcheck "detach -p offers the used ports" "0" usbip-tool detach -p ""
zcheck "attach -r offers host names" "HOSTS" usbip-tool attach -r ""
zcheck "trace decode offers files" "FILES" usbip-tool trace decode ""
zcheck "usbipcored --log-format values" "journal json text" usbipcored --log-format ""

# attach -b asks the remote: a real usbipcored exporting 1-1 from the same fake tree
# the port is kernel-chosen and held bound (SO_REUSEADDR, not listening) by a helper until the
# daemon listens on it, so no other process can take it in between (no bind-close-reuse race)
coproc HOLD { exec python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True); sys.stdin.read()'; }
read -r port <&"${HOLD[0]}"
usbipcored --listen "127.0.0.1:$port" --status-socket "$ROOT/status.sock" 2>"$ROOT/daemon.log" &
DAEMON_PID=$!
listening=0
for ((i = 0; i < 200; i++)); do # allowed: bounded wait (20 s) for the daemon's listener
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && { listening=1; break; }
    sleep 0.1
done
kill "$HOLD_PID" 2>/dev/null
[ "$listening" = 1 ] || { echo "Bail out! usbipcored did not listen on 127.0.0.1:$port within 20 s:"; cat "$ROOT/daemon.log"; exit 1; }
check "attach -r HOST -b offers HOST's bus IDs" "1-1" usbip-tool -t "$port" attach -r 127.0.0.1 -b ""
check "attach -r HOST:PORT (three words) -b" "1-1" usbip-tool attach -r 127.0.0.1 : "$port" -b ""
zcheck "attach -r HOST:PORT -b offers HOST's bus IDs" "1-1" usbip-tool attach -r "127.0.0.1:$port" -b ""

echo "1..$n"
exit $((failed > 0))
