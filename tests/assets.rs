//! The PNGs in assets/icons are exactly what the drawing code produces
//! (regenerate them with `cargo run --example draw_icons`).

use std::fs::File;
use std::path::Path;

use osaurus_tray::icon::{render, IconKind, Style};

fn decode(path: &Path) -> (u32, Vec<u8>) {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = png::Decoder::new(std::io::BufReader::new(file)).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgba, "{}", path.display());
    assert_eq!(info.width, info.height);
    buf.truncate(info.buffer_size());
    (info.width, buf)
}

#[test]
fn every_icon_is_in_assets_at_1x_and_2x_and_matches_the_code() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/icons");
    for kind in IconKind::ALL {
        for (style, suffix) in [(Style::Template, "-template"), (Style::Colour, "")] {
            for (size, scale) in [(22, ""), (44, "@2x")] {
                let path = dir.join(format!("{}{suffix}{scale}.png", kind.name()));
                let (w, pixels) = decode(&path);
                assert_eq!(w, size, "{}", path.display());
                assert!(pixels == render(kind, size, style), "{} differs from icon::render", path.display());
            }
        }
    }
}
