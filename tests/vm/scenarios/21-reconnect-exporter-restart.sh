#!/bin/sh
# usbip-tool attach --auto-reconnect against usbipcored, then upstream usbipd: the session is
# ended from the exporting side (usbip unbind: the stub closes its socket, vhci releases the
# port) and the device comes back on vhci by itself once it is exportable again (usbip bind;
# in a second round also the daemon restarted). Killing the daemon alone does not end the
# session (the kernel owns the socket). Events: attached, lost, reconnecting..., reconnected;
# a deliberate detach (usbip-tool detach, then upstream usbip detach) ends the supervisor with
# `detached` and nothing is re-attached.
# Each outage lasts REC_OUTAGE_S from the loss (55 s in the full profile, 12 s in the quick one
# the default run uses): the supervisor stays on its quick cadence for the first minute, so the
# device must be back within ~2 s of the exporter returning.
# FIGURE reconnect_rebind.<exporter>: `usbip bind` returned -> device back on vhci (ms)
# FIGURE reconnect_restart.<exporter>: daemon listening again -> device back on vhci (ms)
# FIGURE reconnect_lost_seen.<exporter>: `usbip unbind` -> `lost` event (ms)
. "$VMH_SRC/lib.sh"
need_tool
need_daemon
B=$LB_BUSID
trap 'stop_supervisor' EXIT
if [ "${VMH_PROFILE:-quick}" = full ]; then REC_OUTAGE_S=${REC_OUTAGE_S:-55}; else REC_OUTAGE_S=${REC_OUTAGE_S:-12}; fi

start_exporter() {
  if [ "$1" = usbipd ]; then start_usbipd; else start_usbipcored --listen 127.0.0.1:3240; fi
}
stop_exporter() {
  if [ "$1" = usbipd ]; then stop_usbipd; else stop_usbipcored; fi
}
# the exporting side still holds the device (usbip_status 2 = in use)
exporter_busy() { [ "$(cat /sys/bus/usb/devices/$B/usbip_status 2>/dev/null)" = 2 ]; }
sup_alive() { [ -d "/proc/$SUP_PID" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$SUP_PID/status"; }

# break_and_heal EXPORTER EVENTS RESTART(0|1): ends the session from the exporting side, waits
# until the supervisor has seen the loss and failed at least once, makes the device exportable
# again and measures how long until it is back on vhci
break_and_heal() {
  _e=$1 _ev=$2 _restart=$3
  # an outage after a healthy attachment: it has lasted the supervisor's stable time (5 s)
  sleep 5 # allowed: the attachment must last the stable time, a duration not an event
  _lost=$(event_count "$_ev" lost) _rec=$(event_count "$_ev" reconnecting) _ok=$(event_count "$_ev" reconnected)
  if [ "$_restart" = 1 ]; then
    stop_exporter "$_e"
    say "$_e stopped; waiting 3 s: the established session must survive (the kernel owns it)"
    sleep 3  # allowed sleep: a period in which the session must not be lost
    vhci_device "$LB_ID" > /dev/null || fail "$LB_ID left vhci when only $_e was stopped"
    exporter_busy || fail "$B no longer in use on the exporting side after stopping $_e"
    [ "$(event_count "$_ev" lost)" -eq "$_lost" ] || fail "'lost' reported although only $_e was stopped"
    say "session survived stopping $_e: $LB_ID still on vhci, $B still in use (usbip_status 2), no event"
  fi
  read -r _t0 _ < /proc/uptime
  run usbip unbind -b "$B"
  wait_for 30 has_events "$_ev" lost $((_lost + 1)) || fail "no 'lost' event after usbip unbind ($_e): $(events "$_ev")"
  read -r _t1 _ < /proc/uptime
  figure "reconnect_lost_seen.$_e$4" "$(ms_between "$_t0" "$_t1")" ms
  vhci_device "$LB_ID" > /dev/null && fail "$LB_ID still on vhci after 'lost'"
  # the exporter is away: the first attempt(s) fail (no such device, or connection refused)
  wait_for 30 has_events "$_ev" reconnecting $((_rec + 1)) ||
    fail "no 'reconnecting' event while $B is not exportable ($_e): $(events "$_ev")"
  grep '"event":"reconnecting"' "$_ev" | tail -n1 | sed 's/^/  > /'
  # the outage goes on; the supervisor keeps trying
  read -r _tn _ < /proc/uptime
  sleep "$(awk -v a="$_t1" -v n="$_tn" -v o="$REC_OUTAGE_S" 'BEGIN { s = o - (n - a); print (s > 0 ? s : 0) }')" # allowed: the outage's length is what is tested
  say "outage of $REC_OUTAGE_S s: $(grep -c '"event":"reconnecting"' "$_ev") reconnecting events so far"
  run usbip bind -b "$B"
  if [ "$_restart" = 1 ]; then
    start_exporter "$_e"
    _name=reconnect_restart
  else
    _name=reconnect_rebind
  fi
  read -r _t2 _ < /proc/uptime
  _t3=$(wait_vhci_fast 90 "$LB_ID") || fail "$LB_ID not back on vhci 90 s after it was exportable again ($_e): $(events "$_ev")"
  figure "$_name.$_e" "$(ms_between "$_t2" "$_t3")" ms
  wait_for 20 has_events "$_ev" reconnected $((_ok + 1)) || fail "device back but no 'reconnected' event: $(events "$_ev")"
  dev=$(vhci_device "$LB_ID")
  say "back: $dev $(cat /sys/bus/usb/devices/$dev/idVendor):$(cat /sys/bus/usb/devices/$dev/idProduct); events: $(events "$_ev")"
  exporter_busy || fail "$B not in use on the exporting side after the reconnect"
}

round() { # round EXPORTER DETACH-COMMAND...
  _e=$1; shift
  ev=$RESULTS/events-21-$_e.json
  start_exporter "$_e"
  run usbip bind -b "$B"
  start_supervisor "$ev" "$B"
  wait_for 30 vhci_device "$LB_ID" || fail "no $LB_ID on vhci ($_e): $(cat "$ev" "$ev.err")"
  wait_for 10 has_events "$ev" attached 1 || fail "no 'attached' event: $(cat "$ev" "$ev.err")"
  say "attached: $(cat "$ev")"

  break_and_heal "$_e" "$ev" 0
  break_and_heal "$_e" "$ev" 1 .restart

  sequence=$(events "$ev")
  say "events so far: $sequence"
  echo "$sequence" | grep -Eq '^attached lost (reconnecting )+reconnected lost (reconnecting )+reconnected$' ||
    fail "unexpected event sequence ($_e): $sequence"
  grep -q '"schema":1' "$ev" || fail "events without \"schema\":1"
  grep '"event":"reconnecting"' "$ev" | grep -q '"delay_ms":[0-9]' || fail "reconnecting events without delay_ms"

  port=$(last_event_port "$ev" reconnected)
  [ -n "$port" ] || fail "the 'reconnected' event names no port"
  [ "$(upstream_port "$LB_ID")" = "$port" ] || fail "usbip port shows $LB_ID on port $(upstream_port "$LB_ID"), the event said $port"
  run "$@" "$port"
  wait_for 10 has_events "$ev" detached 1 || fail "no 'detached' event after '$* $port': $(events "$ev")"
  wait_for 10 absent sup_alive || fail "the supervisor still runs after 'detached'"
  wait "$SUP_PID"; rc=$?
  SUP_PID=; rm -f /tmp/supervisor.pid
  [ "$rc" -eq 0 ] || fail "the supervisor exited with $rc after a deliberate detach"
  sleep 3  # allowed sleep: a period in which nothing may re-attach
  vhci_device "$LB_ID" > /dev/null && fail "$LB_ID re-attached after a deliberate detach"
  [ "$(events "$ev")" = "$sequence detached" ] || fail "events after the detach: $(events "$ev")"
  [ -s "$ev.err" ] && { say "supervisor stderr:"; sed 's/^/  ! /' "$ev.err"; }
  run usbip unbind -b "$B"
  stop_exporter "$_e"
  say "$_e round passed: $(events "$ev")"
}

round usbipcored "$USBIP_TOOL" detach -p
round usbipd usbip detach -p
say "reconnect after exporter restart passed"
