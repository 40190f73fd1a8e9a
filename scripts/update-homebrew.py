#!/usr/bin/env python3
"""Brings the Homebrew cask and formula in step with a release.

    scripts/update-homebrew.py VERSION SHA256SUMS [FILE...]

Rewrites, in each FILE (default: Casks/osaurus-tray.rb and
Formula/osaurus-tray.rb), the `version "..."` line to VERSION (a formula
has none: Homebrew reads it from the urls), the old version written out in
each `url` (a cask's urls say `#{version}`, which stays), and every `sha256 "..."` line to the sum SHA256SUMS gives for the
file its `url` names: the first sha256 line goes with the first url line,
and so on (a cask puts sha256 before url, a formula after; each file has
one pair per download). Nothing else changes. Every url must be a download
of this project's release of that version, and every file it names must be
in SHA256SUMS, or nothing is written and the reason is printed.

SHA256SUMS is what scripts/release-archive.sh writes (`sha256sum` format).
The release workflow runs this; tests/release.rs runs it on a made-up sums
file.
"""

import os
import re
import sys

RELEASES = "https://github.com/osaurus-tray/osaurus-tray/releases/download/v"
VERSION_LINE = re.compile(r'^(\s*version\s+")([^"]*)(")\s*$')
URL_LINE = re.compile(r'^\s*url\s+"([^"]*)"')
SHA_LINE = re.compile(r'^(\s*sha256\s+")([^"]*)(")\s*$')
TAG = re.compile(r"/releases/download/v([^/]+)/")
SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$")
SUM_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](\S.*)$")


class Refused(Exception):
    """Why a file cannot be brought in step; nothing is written."""


def parse_sums(text):
    """{file name: lowercase sha256} from `sha256sum` output."""
    sums = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = SUM_LINE.match(line)
        if not m:
            raise Refused(f"line {number} of the sums is not '<sha256>  <file>': {line!r}")
        name = m.group(2).strip()
        if name in sums and sums[name] != m.group(1).lower():
            raise Refused(f"the sums give {name} two different sums")
        sums[name] = m.group(1).lower()
    if not sums:
        raise Refused("the sums file is empty")
    return sums


def rewrite(text, version, sums, what="the file"):
    """`text` with its version and sha256 lines for `version` and `sums`."""
    if not SEMVER.match(version):
        raise Refused(f"{version!r} is not a version like 1.2.3")
    lines = text.splitlines(keepends=True)
    versions = [i for i, l in enumerate(lines) if VERSION_LINE.match(l)]
    urls = [i for i, l in enumerate(lines) if URL_LINE.match(l) and URL_LINE.match(l).group(1).startswith("http")]
    shas = [i for i, l in enumerate(lines) if SHA_LINE.match(l)]
    if len(versions) > 1:
        raise Refused(f"{what} has {len(versions)} version lines, not one")
    if not urls or len(urls) != len(shas):
        raise Refused(f"{what} has {len(urls)} download urls and {len(shas)} sha256 lines; each url needs its own")
    if versions:
        m = VERSION_LINE.match(lines[versions[0]])
        old = m.group(2)
        lines[versions[0]] = f"{m.group(1)}{version}{m.group(3)}\n"
    else:
        # A formula's version is read from its urls: the release tag.
        tags = {t for i in urls for t in TAG.findall(URL_LINE.match(lines[i]).group(1))}
        if len(tags) != 1:
            raise Refused(f"{what} has no version line and its urls name {len(tags)} release tags, not one")
        old = tags.pop()
    for url_at, sha_at in zip(urls, shas):
        url = URL_LINE.match(lines[url_at]).group(1)
        new_url = url.replace(f"/v{old}/", f"/v{version}/").replace(f"-{old}-", f"-{version}-")
        lines[url_at] = lines[url_at].replace(url, new_url)
        download = new_url.replace("#{version}", version)
        tag = f"{RELEASES}{version}/"
        if not download.startswith(tag):
            raise Refused(f"{what}: {url} is not a download of this project's release ({tag}...)")
        name = download[len(tag) :]
        if "/" in name or "#{" in name or not name:
            raise Refused(f"{what}: cannot tell which file {url} downloads")
        if name not in sums:
            raise Refused(f"{what} downloads {name}, which the sums do not list")
        m = SHA_LINE.match(lines[sha_at])
        lines[sha_at] = f"{m.group(1)}{sums[name]}{m.group(3)}\n"
    return "".join(lines)


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    version, sums_path = argv[1].removeprefix("v"), argv[2]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = argv[3:] or [os.path.join(root, "Casks/osaurus-tray.rb"), os.path.join(root, "Formula/osaurus-tray.rb")]
    try:
        with open(sums_path, encoding="utf-8") as f:
            sums = parse_sums(f.read())
        updated = {}
        for path in files:
            with open(path, encoding="utf-8") as f:
                updated[path] = rewrite(f.read(), version, sums, path)
    except (OSError, Refused) as e:
        print(f"update-homebrew: {e}", file=sys.stderr)
        return 1
    # Only once every file is known good.
    for path, text in updated.items():
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
