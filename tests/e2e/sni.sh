#!/usr/bin/env bash
# End-to-end test of the tray item as panels see it, on Linux, headless: its
# StatusNotifierItem properties read over D-Bus. The title names the app
# ("Osaurus Tray", not the executable), and the status is NeedsAttention
# while a server is open to the network, Active otherwise.
#
# Usage: tests/e2e/sni.sh path/to/osaurus-tray
# Needs: xvfb dbus libglib2.0-bin haskell-status-notifier-item-utils perl
set -euo pipefail
APP=$(readlink -f "$1")
# shellcheck source=../../scripts/lib/headless.sh
source "$(dirname "$(readlink -f "$0")")/../../scripts/lib/headless.sh"
headless_enter "$0" "$APP"

# shellcheck source=checks.sh
source "$(dirname "$(readlink -f "$0")")/checks.sh" sni
headless_setup
start_xvfb
start_sni_watcher

# prop NAME: the item's property NAME, as the string it holds.
prop() { "${P[@]}" "$1" | sed -E "s/^\(<'(.*)'>,\)$/\1/"; }
# wait_prop NAME VALUE: polls until the property holds VALUE.
wait_prop() {
  local v=
  for _ in $(seq 150); do
    v=$(prop "$1")
    [[ $v == "$2" ]] && return 0
    sleep 0.05
  done
  fail "$1 is '$v', not '$2'"
}
# same_icons: polls until the attention icon is the icon; sets ICON.
same_icons() {
  for _ in $(seq 150); do
    ICON=$(prop IconName)
    [[ -n $ICON && $(prop AttentionIconName) == "$ICON" ]] && return 0
    sleep 0.05
  done
  fail "the attention icon '$(prop AttentionIconName)' is not the icon '$ICON'"
}
publish() { # publish DIR ID JSON: atomically, as Osaurus does
  mkdir -p "$1/$2"
  printf '%s' "$3" >"$1/$2/.configuration.json.tmp"
  mv "$1/$2/.configuration.json.tmp" "$1/$2/configuration.json"
}

RT=$TMP/runtime
mkdir -p "$RT"
start_app app-tray.log --runtime-dir "$RT"
wait_prop Title "Osaurus Tray"
wait_prop Status Active
ok "the item is titled Osaurus Tray and Active while nothing is exposed"

ID=A0000000-0000-4000-8000-00000000000A
publish "$RT" "$ID" "{\"instanceId\":\"$ID\",\"health\":\"running\",\"port\":7001,\"address\":\"192.168.1.23\",\"url\":\"http:\\/\\/192.168.1.23:7001\",\"exposeToNetwork\":true,\"updatedAt\":\"2025-09-08T12:35:12Z\"}"
wait_prop Status NeedsAttention
same_icons
[[ -s $ICON ]] || fail "the icon '$ICON' is not there"
wait_prop Title "Osaurus Tray"
ok "NeedsAttention while a server is open to the LAN, showing the icon itself"

rm -rf "${RT:?}/$ID"
wait_prop Status Active
same_icons
wait_prop Title "Osaurus Tray"
ok "Active again once the exposed server is gone"

kill -TERM "$APP_PID"
RC=0
wait "$APP_PID" || RC=$?
[[ $RC == 0 ]] || fail "exit status $RC after SIGTERM"
checks_done
