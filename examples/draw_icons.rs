//! Writes the tray icons into `assets/icons/` as PNGs, at 1x (22 px) and 2x
//! (44 px), in the macOS template style and the Linux colour style. The
//! drawing itself is `osaurus_tray::icon::render`; this is its source.
//!
//! Run with `cargo run --example draw_icons`.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use osaurus_tray::icon::{render, IconKind, Style};

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/icons");
    std::fs::create_dir_all(&dir).expect("create assets/icons");
    for kind in IconKind::ALL {
        for (style, suffix) in [(Style::Template, "-template"), (Style::Colour, "")] {
            for (size, scale) in [(22, ""), (44, "@2x")] {
                let path = dir.join(format!("{}{suffix}{scale}.png", kind.name()));
                write_png(&path, size, &render(kind, size, style));
                println!("{}", path.display());
            }
        }
    }
}

fn write_png(path: &Path, size: u32, rgba: &[u8]) {
    let file = BufWriter::new(File::create(path).expect("create png"));
    let mut encoder = png::Encoder::new(file, size, size);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("png header");
    writer.write_image_data(rgba).expect("png data");
}
