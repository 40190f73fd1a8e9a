#!/usr/bin/env bash
# Signs "Osaurus Tray.app" (and any loose executables given, such as the
# command line's tarball's) with a Developer ID, has Apple's notary service
# check them, and staples the ticket to the app, so that Gatekeeper opens
# the downloaded app without a question.
#
# Usage: scripts/sign-macos.sh APP [EXECUTABLE...]
#
# Environment:
#   MACOS_SIGNING_IDENTITY   a "Developer ID Application: ..." identity in a
#                            keychain codesign can use. Unset or empty: the
#                            app keeps the ad hoc signature
#                            scripts/bundle-macos.sh gave it; this script
#                            says so and changes nothing.
#   For notarization, one of:
#     APPLE_API_KEY_PATH, APPLE_API_KEY_ID, APPLE_API_ISSUER
#                            an App Store Connect API key (.p8 file)
#     APPLE_ID, APPLE_APP_PASSWORD, APPLE_TEAM_ID
#                            an Apple ID and an app-specific password
#   Neither: signed with the Developer ID but not notarized (Gatekeeper
#   still asks), said on stderr.
#
# Prints `notarized`, `signed` or `adhoc`: what the app now is.
# macOS only (codesign, notarytool, stapler come with Xcode).
set -euo pipefail

die() {
  echo "sign-macos: $*" >&2
  exit 1
}

[[ $# -ge 1 ]] || die "usage: scripts/sign-macos.sh APP [EXECUTABLE...]"
APP=$1
shift
[[ -d $APP/Contents/MacOS ]] || die "$APP is not an app bundle"
for exe in "$@"; do
  [[ -x $exe ]] || die "$exe is not an executable"
done

IDENTITY=${MACOS_SIGNING_IDENTITY:-}
if [[ -z $IDENTITY ]]; then
  echo "sign-macos: no Developer ID (MACOS_SIGNING_IDENTITY is empty): the app stays signed ad hoc" >&2
  echo adhoc
  exit 0
fi
[[ $(uname -s) == Darwin ]] || die "signing with a Developer ID needs macOS"

# Hardened runtime (--options runtime) and a secure timestamp are what the
# notary service requires. Inside out: the command line beside the main
# executable is nested code, signed before the bundle that seals it.
sign() {
  codesign --force --options runtime --timestamp --sign "$IDENTITY" "$1" >&2 || die "codesign failed for $1"
}
for exe in "$@"; do
  sign "$exe"
done
sign "$APP/Contents/MacOS/osaurus-tray"
sign "$APP"
codesign --verify --strict --deep --verbose=2 "$APP" >&2 || die "the app's signature does not verify"

auth=()
if [[ -n ${APPLE_API_KEY_PATH:-} && -n ${APPLE_API_KEY_ID:-} && -n ${APPLE_API_ISSUER:-} ]]; then
  auth=(--key "$APPLE_API_KEY_PATH" --key-id "$APPLE_API_KEY_ID" --issuer "$APPLE_API_ISSUER")
elif [[ -n ${APPLE_ID:-} && -n ${APPLE_APP_PASSWORD:-} && -n ${APPLE_TEAM_ID:-} ]]; then
  auth=(--apple-id "$APPLE_ID" --password "$APPLE_APP_PASSWORD" --team-id "$APPLE_TEAM_ID")
else
  echo "sign-macos: signed with $IDENTITY but not notarized: no App Store Connect key or Apple ID was given" >&2
  echo signed
  exit 0
fi

# One submission for the app and the loose executables, zipped as Apple asks.
work=$(mktemp -d)
# shellcheck disable=SC2064 # the path is fixed now
trap "rm -rf '$work'" EXIT
mkdir "$work/submit"
ditto "$APP" "$work/submit/$(basename "$APP")" >&2
for exe in "$@"; do
  cp "$exe" "$work/submit/"
done
ditto -c -k --keepParent "$work/submit" "$work/submit.zip"
xcrun notarytool submit "$work/submit.zip" "${auth[@]}" --wait --timeout 30m --output-format json >"$work/result.json" ||
  die "notarytool could not submit: $(cat "$work/result.json")"
status=$(plutil -extract status raw -o - "$work/result.json" 2>/dev/null || true)
if [[ $status != Accepted ]]; then
  id=$(plutil -extract id raw -o - "$work/result.json" 2>/dev/null || true)
  if [[ -n $id ]]; then xcrun notarytool log "$id" "${auth[@]}" >&2 || true; fi
  die "the notary service said '${status:-nothing}' (see its log above)"
fi
# Their reports go to stderr: stdout is this script's one-word answer.
xcrun stapler staple "$APP" >&2 || die "stapler could not staple the ticket to $APP"
xcrun stapler validate "$APP" >&2 || die "the stapled ticket does not validate"
spctl --assess --type execute --verbose=2 "$APP" >&2 || die "Gatekeeper does not accept $APP"
echo notarized
