# osaurus-tray, the command line (and the menu-bar app it starts, outside
# an app bundle), from the GitHub release's archives.
# Kept in step with releases by .github/workflows/release.yml, which runs
# scripts/update-homebrew.py: it rewrites the version in the urls (Homebrew
# reads it from them) and each url's `sha256` only.
class OsaurusTray < Formula
  desc "Which Osaurus local LLM servers are live, their URLs, and LAN exposure"
  homepage "https://github.com/osaurus-tray/osaurus-tray"
  license "MIT"

  on_macos do
    # Osaurus itself runs only on Apple silicon; so does this build.
    depends_on arch: :arm64

    url "https://github.com/osaurus-tray/osaurus-tray/releases/download/v0.1.0/osaurus-tray-0.1.0-aarch64-apple-darwin.tar.gz"
    sha256 "0000000000000000000000000000000000000000000000000000000000000000"
  end

  on_linux do
    depends_on arch: :x86_64

    url "https://github.com/osaurus-tray/osaurus-tray/releases/download/v0.1.0/osaurus-tray-0.1.0-x86_64-unknown-linux-gnu.tar.gz"
    sha256 "0000000000000000000000000000000000000000000000000000000000000000"
  end

  def install
    bin.install "osaurus-tray", "osaurus-tray-app"
    bash_completion.install "completions/osaurus-tray.bash" => "osaurus-tray"
    zsh_completion.install "completions/_osaurus-tray"
    fish_completion.install "completions/osaurus-tray.fish"
    man1.install "man/osaurus-tray.1"
  end

  test do
    assert_match "osaurus-tray #{version}", shell_output("#{bin}/osaurus-tray --version")
    # No Osaurus runs in the test sandbox: exit 1 and a sentence naming the folder.
    output = shell_output("#{bin}/osaurus-tray --runtime-dir #{testpath} url --no-probe 2>&1", 1)
    assert_match testpath.to_s, output
  end
end
