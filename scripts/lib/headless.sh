# Shared by the scripts that run the tray headless on Linux (tests/e2e/tray.sh,
# scripts/screenshot.sh, scripts/bench-tray.sh, scripts/soak.sh): a private
# D-Bus session (and, as root, a private PID namespace, so that everything
# started is killed and reaped at the end), Xvfb, a StatusNotifier watcher,
# and reading and clicking the tray's menu over com.canonical.dbusmenu.
#
# Source it, then call `headless_enter "$0" "$@"` first thing. A script that
# sources it defines `fail MESSAGE` (print and exit non-zero) before calling
# anything below that can fail.

# Re-runs the calling script inside the private session; returns when inside.
headless_enter() {
  local script=$1
  shift
  [[ -n "${HEADLESS_INNER:-}" ]] && return 0
  export HEADLESS_INNER=1
  if [[ $(id -u) == 0 ]] && unshare --pid --fork --kill-child --mount-proc true 2>/dev/null; then
    exec unshare --pid --fork --kill-child --mount-proc dbus-run-session -- bash "$script" "$@"
  fi
  exec dbus-run-session -- bash "$script" "$@"
}

# Sets TMP (removed at exit), a private XDG_RUNTIME_DIR and XDG_CONFIG_HOME,
# and PIDS: every process appended there is killed and reaped at exit.
headless_setup() {
  export NO_AT_BRIDGE=1
  unset WAYLAND_DISPLAY OSAURUS_RUNTIME_DIR OSAURUS_TRAY_FORCE_POLL
  TMP=$(mktemp -d)
  export XDG_RUNTIME_DIR=$TMP/xdg XDG_CONFIG_HOME=$TMP/config
  mkdir -m 700 "$XDG_RUNTIME_DIR"
  PIDS=()
  trap headless_cleanup EXIT
}

# Stops what was started, newest first, each before the next: the apps
# finish cleaning up before the display they draw on goes away (GTK exits at
# once, without cleanup, when its X server dies).
headless_cleanup() {
  local i p
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    p=${PIDS[i]}
    kill "$p" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$TMP"
}

# start_xvfb [WxHxD]: a display on a free number; sets DISPLAY.
start_xvfb() {
  Xvfb -displayfd 3 -screen 0 "${1:-1280x800x24}" -nolisten tcp 3>"$TMP/display" >"$TMP/xvfb.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 200); do [[ -s $TMP/display ]] && break; sleep 0.05; done
  [[ -s $TMP/display ]] || fail "Xvfb did not start"
  export DISPLAY=:$(head -1 "$TMP/display")
}

# A StatusNotifier watcher, so the tray's item (and its menu) is on the bus.
start_sni_watcher() {
  status-notifier-watcher >"$TMP/watcher.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 200); do sni_has_watcher && return 0; sleep 0.05; done
  fail "no StatusNotifier watcher on the bus"
}

sni_has_watcher() {
  gdbus call --session -d org.freedesktop.DBus -o /org/freedesktop/DBus \
    -m org.freedesktop.DBus.NameHasOwner org.kde.StatusNotifierWatcher 2>/dev/null | grep -q true
}

# The bus names of the registered tray items, one a line.
sni_items() {
  gdbus call --session -d org.kde.StatusNotifierWatcher -o /StatusNotifierWatcher \
    -m org.freedesktop.DBus.Properties.Get org.kde.StatusNotifierWatcher RegisteredStatusNotifierItems |
    grep -oE "'[^']+'" | tr -d "'" || true
}

# sni_connect: waits for a tray item to register; sets P (a property getter
# of the item) and M (calls on its dbusmenu object).
sni_connect() {
  local entry= bus obj menu
  for _ in $(seq 500); do
    entry=$(sni_items | head -1)
    [[ -n $entry ]] && break
    sleep 0.02
  done
  [[ -n $entry ]] || fail "the app never registered a tray item"
  bus=${entry%%/*}
  obj=$(gdbus introspect --session -d "$bus" -o /org/ayatana/NotificationItem |
    grep -oE 'node [A-Za-z0-9_]+' | head -1 | cut -d' ' -f2)
  obj=/org/ayatana/NotificationItem/$obj
  P=(gdbus call --session -d "$bus" -o "$obj" -m org.freedesktop.DBus.Properties.Get org.kde.StatusNotifierItem)
  menu=$("${P[@]}" Menu | grep -oE "'/[^']*'" | tr -d "'")
  [[ -n $menu ]] || fail "the tray item has no menu"
  M=(gdbus call --session -d "$bus" -o "$menu")
}

# The whole menu tree with labels (muda doubles '_' as GTK mnemonics do).
menu_layout() { "${M[@]}" -m com.canonical.dbusmenu.GetLayout -- 0 -1 '["label"]'; }

# menu_item_id LAYOUT LABEL DEPTH: the dbusmenu id of LABEL at DEPTH (1 = top).
menu_item_id() {
  perl -e '($s,$want,$wd)=@ARGV; $d=0;
    while ($s =~ /(\[)|(\])|\((\d+), \{[^{}]*?'\''label'\'': <'\''((?:[^'\''\\]|\\.)*)'\''>/g) {
      if (defined $1) { $d++ } elsif (defined $2) { $d-- }
      elsif ($4 eq $want && $d == $wd) { print "$3\n"; exit }
    }' "$1" "$2" "$3"
}

# menu_label_matching LAYOUT REGEX DEPTH: the first label at DEPTH matching REGEX.
menu_label_matching() {
  perl -e '($s,$re,$wd)=@ARGV; $d=0;
    while ($s =~ /(\[)|(\])|\((\d+), \{[^{}]*?'\''label'\'': <'\''((?:[^'\''\\]|\\.)*)'\''>/g) {
      if (defined $1) { $d++ } elsif (defined $2) { $d-- }
      else { my $l = $4; if ($d == $wd && $l =~ /$re/) { print "$l\n"; exit } }
    }' "$1" "$2" "$3"
}

menu_click() { "${M[@]}" -m com.canonical.dbusmenu.Event -- "$1" clicked '<"">' 0 >/dev/null; }

# The CPU ticks (user + system) and resident memory of a process.
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo; }
proc_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo; }
