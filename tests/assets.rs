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

/// WCAG relative luminance of an sRGB colour.
fn luminance(rgb: &[u8]) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2])
}

fn contrast(a: &[u8], b: &[u8]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[test]
fn the_linux_icons_stand_out_on_light_and_dark_panels() {
    // A light panel (GNOME's and Xfce's default grey) and a dark one.
    let panels: [(&str, [u8; 3]); 2] = [("light #DCDAD5", [0xDC, 0xDA, 0xD5]), ("dark #2B2B2B", [0x2B, 0x2B, 0x2B])];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/icons");
    for kind in IconKind::ALL {
        for scale in ["", "@2x"] {
            let path = dir.join(format!("{}{scale}.png", kind.name()));
            let (_, pixels) = decode(&path);
            // The solid part of the artwork (its anti-aliased edge aside).
            let solid: Vec<&[u8]> = pixels.chunks(4).filter(|p| p[3] == 255).collect();
            assert!(!solid.is_empty(), "{}", path.display());
            for (name, panel) in &panels {
                let worst = solid.iter().map(|p| contrast(&p[..3], panel)).fold(f64::INFINITY, f64::min);
                assert!(worst >= 3.0, "{} on a {name} panel: contrast {worst:.2}:1, under 3:1", path.display());
            }
        }
    }
}
