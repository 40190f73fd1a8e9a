# shellcheck shell=bash
# Shared by scripts/bundle-macos.sh and scripts/release-archive.sh: the
# package version. Source it after defining `die MESSAGE` and ROOT.

# Prints the `version = "..."` line of Cargo.toml's [package] table, or dies.
package_version() {
  local version
  version=$(awk '
    /^[[:space:]]*\[/ { in_package = ($0 ~ /^[[:space:]]*\[package\][[:space:]]*$/) }
    in_package && /^[[:space:]]*version[[:space:]]*=/ {
      sub(/^[^"]*"/, ""); sub(/".*$/, ""); print; exit
    }' "$ROOT/Cargo.toml")
  [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] ||
    die "could not read the [package] version from $ROOT/Cargo.toml (got '${version}')"
  printf '%s\n' "$version"
}
