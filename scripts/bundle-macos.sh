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
#   BINARY  the command line, osaurus-tray-app beside it; default: both
#           architectures' builds when both exist (made one universal binary
#           each with `lipo`), else target/aarch64-apple-darwin/release/,
#           else target/release/osaurus-tray
#   OUTDIR  default: target/bundle
# Defaults are taken under $CARGO_TARGET_DIR (else the repository root's
# target/); arguments from the current folder.
#
# A universal build:
#   cargo build --release --target aarch64-apple-darwin
#   cargo build --release --target x86_64-apple-darwin
#   scripts/bundle-macos.sh
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

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
ARM=$TARGET/aarch64-apple-darwin/release
INTEL=$TARGET/x86_64-apple-darwin/release
UNIVERSAL=
if [[ $# -ge 1 && -n $1 ]]; then
  BINARY=$1
elif [[ -x $ARM/$EXE && -x $ARM/$APP_EXE && -x $INTEL/$EXE && -x $INTEL/$APP_EXE ]]; then
  BINARY=$ARM/$EXE
  UNIVERSAL=1
  command -v lipo >/dev/null 2>&1 || die "both architectures are built but lipo is missing (it comes with Xcode's command line tools)"
elif [[ -f $ARM/$EXE ]]; then
  BINARY=$ARM/$EXE
else
  BINARY=$TARGET/release/$EXE
fi
OUTDIR=${2:-$TARGET/bundle}

[[ -f $BINARY ]] || die "no binary at $BINARY (build it first: cargo build --release)"
[[ -x $BINARY ]] || die "$BINARY is not executable"
APP_BINARY=$(dirname "$BINARY")/$APP_EXE
[[ -x $APP_BINARY ]] || die "no menu-bar app at $APP_BINARY (it is built with the command line)"

TEMPLATE=$ROOT/bundle/macos/Info.plist.in
ICON=$ROOT/bundle/macos/AppIcon.icns
[[ -f $TEMPLATE ]] || die "missing $TEMPLATE"
[[ -f $ICON ]] || die "missing $ICON (regenerate: cargo run --example make_app_icons)"

# The version: the `version = "..."` line of Cargo.toml's [package] table.
# shellcheck source=scripts/lib/version.sh
source "$ROOT/scripts/lib/version.sh"
VERSION=$(package_version) || exit 1

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
for exe in "$EXE" "$APP_EXE"; do
  if [[ -n $UNIVERSAL ]]; then
    lipo -create -output "$CONTENTS/MacOS/$exe" "$ARM/$exe" "$INTEL/$exe" || die "lipo could not join the two builds of $exe"
  else
    cp "$(dirname "$BINARY")/$exe" "$CONTENTS/MacOS/$exe"
  fi
done
chmod 755 "$CONTENTS/MacOS/$EXE" "$CONTENTS/MacOS/$APP_EXE"
cp "$ICON" "$CONTENTS/Resources/AppIcon.icns"
chmod 644 "$CONTENTS/Info.plist" "$CONTENTS/PkgInfo" "$CONTENTS/Resources/AppIcon.icns"

if command -v plutil >/dev/null 2>&1; then
  plutil -lint -s "$CONTENTS/Info.plist" || die "Info.plist does not lint"
fi

rm -rf "$APP"
mv "$STAGE/$NAME.app" "$APP"

if [[ $(uname -s) == Darwin ]] && command -v codesign >/dev/null 2>&1; then
  # macOS's cp copies extended attributes (quarantine, provenance, Finder
  # info), which codesign refuses: "resource fork, Finder information, or
  # similar detritus not allowed".
  xattr -cr "$APP" || die "could not clear extended attributes in $APP"
  echo "bundle-macos: signing ad hoc" >&2
  # Inside out: the command line beside the main executable is nested code,
  # which must be signed before the bundle that seals it.
  codesign --force --sign - "$APP/Contents/MacOS/$EXE" || die "codesign failed for $EXE"
  codesign --force --sign - "$APP" || die "codesign failed for $APP"
fi

if [[ -n $UNIVERSAL ]]; then
  echo "bundle-macos: built $NAME $VERSION, universal (arm64 and x86_64), from $ARM and $INTEL" >&2
else
  echo "bundle-macos: built $NAME $VERSION from $BINARY" >&2
fi
echo "$APP"
