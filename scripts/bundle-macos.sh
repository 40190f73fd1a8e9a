#!/usr/bin/env bash
# Assembles "Osaurus Tray.app" around the built executables: the menu-bar
# app (what the bundle starts) and the command line beside it:
#
#   OUTDIR/Osaurus Tray.app/Contents/Info.plist        (from bundle/macos/Info.plist.in)
#   OUTDIR/Osaurus Tray.app/Contents/PkgInfo
#   OUTDIR/Osaurus Tray.app/Contents/MacOS/osaurus-tray-app
#   OUTDIR/Osaurus Tray.app/Contents/MacOS/osaurus-tray
#   OUTDIR/Osaurus Tray.app/Contents/Resources/AppIcon.icns
#
# Usage: scripts/bundle-macos.sh [BINARY] [OUTDIR]
#   BINARY  the command line, osaurus-tray-app beside it; default:
#           target/aarch64-apple-darwin/release/osaurus-tray if it exists,
#           else target/release/osaurus-tray
#   OUTDIR  default: target/bundle
# Relative defaults are taken from the repository root; arguments from the
# current folder.
#
# On macOS, when `codesign` is available, the app is signed ad hoc. The
# script also runs on Linux (tests/bundle.rs runs it there); it then only
# assembles the folder.
set -euo pipefail

die() {
  echo "bundle-macos: $*" >&2
  exit 1
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NAME="Osaurus Tray"
EXE=osaurus-tray
APP_EXE=osaurus-tray-app

if [[ $# -gt 2 ]]; then
  die "usage: scripts/bundle-macos.sh [BINARY] [OUTDIR]"
fi

if [[ $# -ge 1 && -n $1 ]]; then
  BINARY=$1
elif [[ -f $ROOT/target/aarch64-apple-darwin/release/$EXE ]]; then
  BINARY=$ROOT/target/aarch64-apple-darwin/release/$EXE
else
  BINARY=$ROOT/target/release/$EXE
fi
OUTDIR=${2:-$ROOT/target/bundle}

[[ -f $BINARY ]] || die "no binary at $BINARY (build it first: cargo build --release)"
[[ -x $BINARY ]] || die "$BINARY is not executable"
APP_BINARY=$(dirname "$BINARY")/$APP_EXE
[[ -x $APP_BINARY ]] || die "no menu-bar app at $APP_BINARY (it is built with the command line)"

TEMPLATE=$ROOT/bundle/macos/Info.plist.in
ICON=$ROOT/bundle/macos/AppIcon.icns
[[ -f $TEMPLATE ]] || die "missing $TEMPLATE"
[[ -f $ICON ]] || die "missing $ICON (regenerate: cargo run --example make_app_icons)"

# The version: the `version = "..."` line of Cargo.toml's [package] table.
VERSION=$(awk '
  /^[[:space:]]*\[/ { in_package = ($0 ~ /^[[:space:]]*\[package\][[:space:]]*$/) }
  in_package && /^[[:space:]]*version[[:space:]]*=/ {
    sub(/^[^"]*"/, ""); sub(/".*$/, ""); print; exit
  }' "$ROOT/Cargo.toml")
[[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] ||
  die "could not read the [package] version from $ROOT/Cargo.toml (got '${VERSION}')"

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
APP=$OUTDIR/$NAME.app

# Build beside the target, then swap it in, so a failure leaves no half app.
STAGE=$(mktemp -d "$OUTDIR/.bundle.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
CONTENTS=$STAGE/$NAME.app/Contents
mkdir -p "$CONTENTS/MacOS" "$CONTENTS/Resources"

sed "s/@VERSION@/$VERSION/g" "$TEMPLATE" >"$CONTENTS/Info.plist"
if grep -q '@[A-Z_]*@' "$CONTENTS/Info.plist"; then
  die "unreplaced placeholder in Info.plist"
fi
printf 'APPL????' >"$CONTENTS/PkgInfo"
cp "$BINARY" "$CONTENTS/MacOS/$EXE"
cp "$APP_BINARY" "$CONTENTS/MacOS/$APP_EXE"
chmod 755 "$CONTENTS/MacOS/$EXE" "$CONTENTS/MacOS/$APP_EXE"
cp "$ICON" "$CONTENTS/Resources/AppIcon.icns"
chmod 644 "$CONTENTS/Info.plist" "$CONTENTS/PkgInfo" "$CONTENTS/Resources/AppIcon.icns"

if command -v plutil >/dev/null 2>&1; then
  plutil -lint -s "$CONTENTS/Info.plist" || die "Info.plist does not lint"
fi

rm -rf "$APP"
mv "$STAGE/$NAME.app" "$APP"

if [[ $(uname -s) == Darwin ]] && command -v codesign >/dev/null 2>&1; then
  echo "bundle-macos: signing ad hoc" >&2
  codesign --force --sign - "$APP" || die "codesign failed for $APP"
fi

echo "bundle-macos: built $NAME $VERSION from $BINARY" >&2
echo "$APP"
