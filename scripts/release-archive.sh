#!/usr/bin/env bash
# Makes the files a release publishes, from what the build and
# scripts/bundle-macos.sh made. The release workflow
# (.github/workflows/release.yml) runs it; tests/release.rs runs the same
# steps on Linux and checks what a user unpacks.
#
#   scripts/release-archive.sh app APP OUTDIR
#       OUTDIR/osaurus-tray-VERSION-macos.zip: the app, as
#       `ditto -c -k --keepParent` makes it (what Apple's notary service and
#       Finder take; it unpacks to "Osaurus Tray.app"). Without ditto (Linux)
#       Python writes the same layout, modes included.
#   scripts/release-archive.sh cli BINDIR TARGET OUTDIR
#       OUTDIR/osaurus-tray-VERSION-TARGET.tar.gz: one folder of that name
#       with osaurus-tray and osaurus-tray-app from BINDIR, README.md,
#       LICENSE, shell completions and the man page (made by running the
#       osaurus-tray given), and on Linux the desktop entry and icons.
#   scripts/release-archive.sh sums OUTDIR
#       OUTDIR/SHA256SUMS over every .zip and .tar.gz in OUTDIR, in the
#       format `sha256sum -c` and `shasum -a 256 -c` read.
#   scripts/release-archive.sh version
#       prints VERSION (the workflow checks the tag against it).
#
# VERSION is Cargo.toml's [package] version. Each command prints the path of
# what it wrote.
set -euo pipefail

die() {
  echo "release-archive: $*" >&2
  exit 1
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EXE=osaurus-tray
APP_EXE=osaurus-tray-app

# The version: the `version = "..."` line of Cargo.toml's [package] table.
# shellcheck source=scripts/lib/version.sh
source "$ROOT/scripts/lib/version.sh"
VERSION=$(package_version) || exit 1

outdir() {
  mkdir -p "$1"
  (cd "$1" && pwd)
}

# A zip of DIR with DIR itself as its one top-level entry, modes kept: what
# `ditto -c -k --keepParent` writes, for systems without ditto.
zip_keep_parent() {
  command -v python3 >/dev/null 2>&1 || die "neither ditto nor python3 is available to write the zip"
  python3 - "$1" "$2" <<'PY'
import os, stat, sys, time, zipfile

src, out = os.path.abspath(sys.argv[1]), sys.argv[2]
parent = os.path.dirname(src)

def info(path, name):
    st = os.lstat(path)
    zi = zipfile.ZipInfo(name, time.localtime(max(st.st_mtime, 315532800))[:6])
    zi.create_system = 3  # Unix: the high 16 bits of external_attr are the mode
    zi.external_attr = (st.st_mode & 0xFFFF) << 16
    if stat.S_ISDIR(st.st_mode):
        zi.external_attr |= 0x10  # MS-DOS directory bit
    else:
        zi.compress_type = zipfile.ZIP_DEFLATED
    return zi

with zipfile.ZipFile(out, "w") as z:
    for here, dirs, files in os.walk(src):
        dirs.sort()
        rel = os.path.relpath(here, parent)
        z.writestr(info(here, rel + "/"), b"")
        for f in sorted(files):
            path = os.path.join(here, f)
            if os.path.islink(path):
                z.writestr(info(path, os.path.join(rel, f)), os.readlink(path))
            else:
                with open(path, "rb") as fh:
                    z.writestr(info(path, os.path.join(rel, f)), fh.read())
PY
}

archive_app() {
  local app=$1 out
  [[ -d $app/Contents/MacOS ]] || die "$app is not an app bundle (no Contents/MacOS)"
  [[ -f $app/Contents/Info.plist ]] || die "$app has no Contents/Info.plist"
  out=$(outdir "$2")/$EXE-$VERSION-macos.zip
  rm -f "$out"
  if command -v ditto >/dev/null 2>&1; then
    ditto -c -k --keepParent "$app" "$out" || die "ditto could not archive $app"
  else
    zip_keep_parent "$app" "$out"
  fi
  echo "$out"
}

archive_cli() {
  local bindir=$1 target=$2 out name stage dir exe
  [[ $target =~ ^[A-Za-z0-9_.-]+$ ]] || die "not a target triple: '$target'"
  for exe in "$EXE" "$APP_EXE"; do
    [[ -x $bindir/$exe ]] || die "no executable $bindir/$exe (build it first: cargo build --release --target $target)"
  done
  name=$EXE-$VERSION-$target
  out=$(outdir "$3")/$name.tar.gz
  stage=$(mktemp -d)
  # shellcheck disable=SC2064 # the path is fixed now
  trap "rm -rf '$stage'" EXIT
  dir=$stage/$name
  mkdir -p "$dir/completions" "$dir/man"
  cp "$bindir/$EXE" "$bindir/$APP_EXE" "$dir/"
  cp "$ROOT/README.md" "$ROOT/LICENSE" "$dir/"
  "$dir/$EXE" completions bash >"$dir/completions/$EXE.bash" || die "$EXE completions bash failed"
  "$dir/$EXE" completions zsh >"$dir/completions/_$EXE" || die "$EXE completions zsh failed"
  "$dir/$EXE" completions fish >"$dir/completions/$EXE.fish" || die "$EXE completions fish failed"
  "$dir/$EXE" man >"$dir/man/$EXE.1" || die "$EXE man failed"
  if [[ $target == *linux* ]]; then
    mkdir -p "$dir/share/applications" "$dir/share/icons/hicolor/256x256/apps" "$dir/share/icons/hicolor/128x128/apps"
    cp "$ROOT/bundle/linux/osaurus-tray.desktop" "$dir/share/applications/"
    cp "$ROOT/bundle/linux/osaurus-tray.png" "$dir/share/icons/hicolor/256x256/apps/osaurus-tray.png"
    cp "$ROOT/bundle/linux/osaurus-tray-128.png" "$dir/share/icons/hicolor/128x128/apps/osaurus-tray.png"
  fi
  # The same modes whatever the umask of the machine that packs it.
  find "$dir" -type d -exec chmod 755 {} +
  find "$dir" -type f -exec chmod 644 {} +
  chmod 755 "$dir/$EXE" "$dir/$APP_EXE"
  rm -f "$out"
  # COPYFILE_DISABLE: macOS's tar would add ._ files for extended attributes.
  COPYFILE_DISABLE=1 tar -czf "$out" -C "$stage" "$name" || die "tar could not write $out"
  echo "$out"
}

write_sums() {
  local dir sum
  dir=$(outdir "$1")
  if command -v sha256sum >/dev/null 2>&1; then
    sum=(sha256sum)
  elif command -v shasum >/dev/null 2>&1; then
    sum=(shasum -a 256)
  else
    die "neither sha256sum nor shasum is available"
  fi
  (
    cd "$dir"
    shopt -s nullglob
    files=(*.zip *.tar.gz)
    [[ ${#files[@]} -gt 0 ]] || die "no .zip or .tar.gz in $dir to sum"
    "${sum[@]}" "${files[@]}" >SHA256SUMS.tmp
    mv SHA256SUMS.tmp SHA256SUMS
  )
  echo "$dir/SHA256SUMS"
}

case ${1:-} in
  app)
    [[ $# -eq 3 ]] || die "usage: scripts/release-archive.sh app APP OUTDIR"
    archive_app "$2" "$3"
    ;;
  cli)
    [[ $# -eq 4 ]] || die "usage: scripts/release-archive.sh cli BINDIR TARGET OUTDIR"
    archive_cli "$2" "$3" "$4"
    ;;
  version)
    [[ $# -eq 1 ]] || die "usage: scripts/release-archive.sh version"
    echo "$VERSION"
    ;;
  sums)
    [[ $# -eq 2 ]] || die "usage: scripts/release-archive.sh sums OUTDIR"
    write_sums "$2"
    ;;
  *)
    die "usage: scripts/release-archive.sh app APP OUTDIR | cli BINDIR TARGET OUTDIR | sums OUTDIR | version"
    ;;
esac
