# Osaurus Tray, the menu-bar app, from the GitHub release's zip.
# Kept in step with releases by .github/workflows/release.yml, which runs
# scripts/update-homebrew.py: it rewrites `version` and `sha256` only.
cask "osaurus-tray" do
  version "0.1.0"
  sha256 "0000000000000000000000000000000000000000000000000000000000000000"

  url "https://github.com/osaurus-tray/osaurus-tray/releases/download/v#{version}/osaurus-tray-#{version}-macos.zip"
  name "Osaurus Tray"
  desc "Menu-bar companion for Osaurus: live local LLM servers, URLs and LAN exposure"
  homepage "https://github.com/osaurus-tray/osaurus-tray"

  livecheck do
    url :url
    strategy :github_latest
  end

  # Osaurus itself runs only on Apple silicon.
  depends_on arch: :arm64

  app "Osaurus Tray.app"
  # The command line inside the app, on PATH (the osaurus-tray formula
  # installs the same command without the app: install one of the two).
  binary "#{appdir}/Osaurus Tray.app/Contents/MacOS/osaurus-tray"

  # Launch at Login on macOS 12 and older writes this LaunchAgent.
  uninstall quit:      "io.github.osaurus-tray",
            launchctl: "io.github.osaurus-tray"

  zap trash: [
    "~/Library/Application Support/osaurus-tray",
    "~/Library/LaunchAgents/io.github.osaurus-tray.plist",
  ]
end
