//! Draws the application icon (the "running" glyph of the tray icon on a
//! dark rounded square) and writes it for the app bundles:
//!
//! - `bundle/macos/AppIcon.icns`: 16 to 1024 px, PNG payloads;
//! - `bundle/linux/osaurus-tray.png` (256 px) and
//!   `bundle/linux/osaurus-tray-128.png` (128 px).
//!
//! The glyph is `osaurus_tray::icon::render`; the background is drawn here.
//! `tests/bundle.rs` checks that the committed files match this code.
//!
//! Run with `cargo run --example make_app_icons`.

use std::path::Path;

use osaurus_tray::icon::{render, Glyph, IconKind, Style};

/// Every size the icon is drawn at, in pixels.
pub const SIZES: [u32; 7] = [16, 32, 64, 128, 256, 512, 1024];

/// The ICNS entries written, each an OSType and the pixel size of its PNG.
pub const ICNS_ENTRIES: [(&[u8; 4], u32); 11] = [
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic10", 1024), // 512@2x
    (b"ic11", 32),   // 16@2x
    (b"ic12", 64),   // 32@2x
    (b"ic13", 256),  // 128@2x
    (b"ic14", 512),  // 256@2x
];

/// Empty border around the rounded square, as a fraction of the icon (the
/// macOS icon grid: an 824 px body on a 1024 px canvas).
const MARGIN: f32 = 100.0 / 1024.0;
/// Corner radius of the rounded square, as a fraction of the icon.
const RADIUS: f32 = 185.0 / 1024.0;
/// Width of the glyph's drawing box, as a fraction of the icon.
const GLYPH: f32 = 0.5;
/// Background colour at the top and at the bottom (a vertical gradient).
const TOP: [f32; 3] = [0x3C as f32, 0x41 as f32, 0x4A as f32];
const BOTTOM: [f32; 3] = [0x1A as f32, 0x1C as f32, 0x21 as f32];
/// Supersampling per axis for the rounded square's edges.
const SS: u32 = 4;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pngs: Vec<(u32, Vec<u8>)> = SIZES.iter().map(|&size| (size, encode_png(size, &app_icon(size)))).collect();
    let png_of = |size: u32| -> &[u8] { &pngs.iter().find(|(s, _)| *s == size).expect("size is drawn").1 };

    let entries: Vec<([u8; 4], &[u8])> = ICNS_ENTRIES.iter().map(|(ty, size)| (**ty, png_of(*size))).collect();
    write(&root.join("bundle/macos/AppIcon.icns"), &icns(&entries));
    write(&root.join("bundle/linux/osaurus-tray.png"), png_of(256));
    write(&root.join("bundle/linux/osaurus-tray-128.png"), png_of(128));
}

/// The disc's colour on the dark square.
const DISC: [u8; 3] = [0xE8, 0xE8, 0xE8];

/// The app icon as `size`×`size` RGBA pixels (straight alpha, row-major).
pub fn app_icon(size: u32) -> Vec<u8> {
    let mut px = background(size);
    // The glyph box, centred on whole pixels: same parity as the canvas.
    let mut g = ((size as f32 * GLYPH).round() as u32).max(1);
    if (size - g) % 2 == 1 {
        g += 1;
    }
    let off = (size - g) / 2;
    let glyph = render(IconKind { glyph: Glyph::Running, lan_badge: false }, g, Style::Colour);
    for y in 0..g {
        for x in 0..g {
            let src = ((y * g + x) * 4) as usize;
            let dst = (((y + off) * size + x + off) * 4) as usize;
            // The glyph's shape, in the app icon's own light colour: the
            // panel colour is chosen for panels, this square is always dark.
            let light = [DISC[0], DISC[1], DISC[2], glyph[src + 3]];
            let over = over(&light, &px[dst..dst + 4]);
            px[dst..dst + 4].copy_from_slice(&over);
        }
    }
    px
}

/// The dark rounded square with a vertical gradient, edges supersampled.
fn background(size: u32) -> Vec<u8> {
    let mut px = vec![0u8; (size * size * 4) as usize];
    let s = size as f32;
    for y in 0..size {
        let t = ((y as f32 + 0.5) / s - MARGIN) / (1.0 - 2.0 * MARGIN);
        let t = t.clamp(0.0, 1.0);
        let colour: [u8; 3] = std::array::from_fn(|c| (TOP[c] + (BOTTOM[c] - TOP[c]) * t).round() as u8);
        for x in 0..size {
            let mut hits = 0u32;
            for sy in 0..SS {
                for sx in 0..SS {
                    let fx = (x as f32 + (sx as f32 + 0.5) / SS as f32) / s;
                    let fy = (y as f32 + (sy as f32 + 0.5) / SS as f32) / s;
                    hits += u32::from(in_rounded_square(fx, fy));
                }
            }
            if hits == 0 {
                continue;
            }
            let i = ((y * size + x) * 4) as usize;
            px[i..i + 3].copy_from_slice(&colour);
            px[i + 3] = (hits as f32 / (SS * SS) as f32 * 255.0).round() as u8;
        }
    }
    px
}

/// Whether (x, y) of the unit square lies in the icon's rounded square.
fn in_rounded_square(x: f32, y: f32) -> bool {
    let (lo, hi) = (MARGIN, 1.0 - MARGIN);
    if x < lo || x > hi || y < lo || y > hi {
        return false;
    }
    let cx = x.clamp(lo + RADIUS, hi - RADIUS);
    let cy = y.clamp(lo + RADIUS, hi - RADIUS);
    (x - cx).powi(2) + (y - cy).powi(2) <= RADIUS * RADIUS
}

/// Porter-Duff "over" of two straight-alpha RGBA pixels.
fn over(top: &[u8], below: &[u8]) -> [u8; 4] {
    let at = top[3] as f32 / 255.0;
    let ab = below[3] as f32 / 255.0;
    let a = at + ab * (1.0 - at);
    if a == 0.0 {
        return [0; 4];
    }
    let mut out = [0u8; 4];
    for c in 0..3 {
        let v = (top[c] as f32 * at + below[c] as f32 * ab * (1.0 - at)) / a;
        out[c] = v.round().clamp(0.0, 255.0) as u8;
    }
    out[3] = (a * 255.0).round() as u8;
    out
}

/// Encodes RGBA pixels as an 8-bit RGBA PNG.
pub fn encode_png(size: u32, rgba: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, size, size);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("png header");
    writer.write_image_data(rgba).expect("png data");
    writer.finish().expect("png end");
    out
}

/// An ICNS container: `icns` and the total length (u32, big-endian), then
/// for each entry its OSType, its length including this 8-byte header, and
/// its payload.
pub fn icns(entries: &[([u8; 4], &[u8])]) -> Vec<u8> {
    let total = 8 + entries.iter().map(|(_, d)| 8 + d.len()).sum::<usize>();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"icns");
    out.extend_from_slice(&u32::try_from(total).expect("icns < 4 GiB").to_be_bytes());
    for (ty, data) in entries {
        out.extend_from_slice(ty);
        out.extend_from_slice(&u32::try_from(8 + data.len()).unwrap().to_be_bytes());
        out.extend_from_slice(data);
    }
    out
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("has a parent")).expect("create folder");
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    println!("{} ({} bytes)", path.display(), bytes.len());
}
