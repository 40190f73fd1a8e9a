use clap::Parser;

use osaurus_tray::cli::{Cli, Command};
use osaurus_tray::cmd::{self, Failure};

fn main() {
    let cli = Cli::parse();
    let dirs = cli.global.runtime_dirs();
    let outcome = match cli.command {
        Some(Command::List(c)) => c.run(&dirs),
        Some(Command::Url(c)) => c.run(&dirs),
        Some(Command::Env(c)) => c.run(&dirs),
        Some(Command::Open(c)) => c.run(&dirs),
        Some(Command::Watch(c)) => c.run(&dirs),
        Some(Command::Demo(c)) => c.run(),
        Some(Command::Tray(c)) => c.run(&dirs),
        None => cmd::tray::Tray::default().run(&dirs),
    };
    if let Err(failure) = outcome {
        match failure {
            Failure::NotFound(m) | Failure::Other(m) => eprintln!("osaurus-tray: {m}"),
        }
        std::process::exit(1);
    }
}
