//! The tray icon's artwork, drawn by code so that every state is a shape, not
//! only a colour (a macOS template image is drawn in one colour).
//!
//! - not running: a hollow ring;
//! - running: a filled disc;
//! - an instance not responding: a half-filled ring;
//! - any instance exposed to the LAN: a triangular badge at the lower right,
//!   cut out of the glyph by a transparent gap.
//!
//! `cargo run --example draw_icons` writes these as PNGs into `assets/`.

/// The glyph part of the icon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Glyph {
    /// No instance runs.
    NotRunning,
    /// Instances run and answer.
    Running,
    /// A running instance does not answer `/health`.
    NotResponding,
}

/// Which icon to show: a glyph, with or without the LAN badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IconKind {
    /// The state of the servers.
    pub glyph: Glyph,
    /// Some instance is exposed to the local network.
    pub lan_badge: bool,
}

impl IconKind {
    /// Every icon the app can show, for drawing the assets.
    pub const ALL: [IconKind; 6] = [
        IconKind { glyph: Glyph::NotRunning, lan_badge: false },
        IconKind { glyph: Glyph::Running, lan_badge: false },
        IconKind { glyph: Glyph::NotResponding, lan_badge: false },
        IconKind { glyph: Glyph::NotRunning, lan_badge: true },
        IconKind { glyph: Glyph::Running, lan_badge: true },
        IconKind { glyph: Glyph::NotResponding, lan_badge: true },
    ];

    /// A file-name stem for this icon: `running-lan`, `not-running`, ...
    pub fn name(self) -> String {
        let glyph = match self.glyph {
            Glyph::NotRunning => "not-running",
            Glyph::Running => "running",
            Glyph::NotResponding => "not-responding",
        };
        if self.lan_badge {
            format!("{glyph}-lan")
        } else {
            glyph.to_owned()
        }
    }
}

/// How the icon is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Black with alpha, for a macOS template image.
    Template,
    /// A mid-grey glyph and a red-orange badge, legible on light and dark
    /// Linux panels.
    Colour,
}

/// The glyph's colour on Linux panels: a mid grey that stands out at 3:1 or
/// more on light panels (#DCDAD5) and dark ones (#2B2B2B) alike
/// (`tests/assets.rs` computes it from the PNGs).
pub const COLOUR_GLYPH: [u8; 3] = [0x77, 0x77, 0x77];

/// The LAN badge's colour on Linux panels: a red-orange with the same 3:1 on
/// both.
pub const COLOUR_BADGE: [u8; 3] = [0xE4, 0x2C, 0x00];

/// Draws `kind` as `size`×`size` RGBA pixels (row-major, 4 bytes a pixel).
pub fn render(kind: IconKind, size: u32, style: Style) -> Vec<u8> {
    const SS: u32 = 4; // supersampling per axis, for smooth edges
    let mut rgba = vec![0u8; (size * size * 4) as usize];
    let s = size as f32;
    let scale = artwork_scale(style);
    for y in 0..size {
        for x in 0..size {
            let (mut glyph_hits, mut badge_hits) = (0u32, 0u32);
            for sy in 0..SS {
                for sx in 0..SS {
                    let px = (x as f32 + (sx as f32 + 0.5) / SS as f32) / s;
                    let py = (y as f32 + (sy as f32 + 0.5) / SS as f32) / s;
                    match coverage(kind, px, py, scale) {
                        Some(Part::Glyph) => glyph_hits += 1,
                        Some(Part::Badge) => badge_hits += 1,
                        None => {}
                    }
                }
            }
            let total = (SS * SS) as f32;
            let alpha = (glyph_hits + badge_hits) as f32 / total;
            if alpha == 0.0 {
                continue;
            }
            let colour = match (style, badge_hits > glyph_hits) {
                (Style::Template, _) => [0, 0, 0],
                (Style::Colour, false) => COLOUR_GLYPH,
                (Style::Colour, true) => COLOUR_BADGE,
            };
            let i = ((y * size + x) * 4) as usize;
            rgba[i..i + 3].copy_from_slice(&colour);
            rgba[i + 3] = (alpha * 255.0).round() as u8;
        }
    }
    rgba
}

enum Part {
    Glyph,
    Badge,
}

/// How much of the image the artwork spans, from the centre: all of it on
/// Linux panels (which scale icons to their height); on macOS the glyph is
/// drawn about 16 pt tall in the 22 pt status item image, as the system's
/// own items are. tray-icon shows an image as many points tall as it has
/// pixels, capped at 22 pt: a 44 px image is 22 pt at 2×, and any image
/// taller than 22 px is squeezed into 22 pt, so the margin is drawn here
/// rather than by a smaller image.
pub fn artwork_scale(style: Style) -> f32 {
    match style {
        // The disc's diameter (0.84 of the image) to 16 pt of 22.
        Style::Template => 16.0 / 22.0 / 0.84,
        Style::Colour => 1.0,
    }
}

/// What covers the point (x, y) of the unit square, the artwork scaled by
/// `scale` about the centre.
fn coverage(kind: IconKind, x: f32, y: f32, scale: f32) -> Option<Part> {
    let (x, y) = ((x - 0.5) / scale + 0.5, (y - 0.5) / scale + 0.5);
    let (cx, cy, r) = if kind.lan_badge { (0.42, 0.42, 0.36) } else { (0.5, 0.5, 0.42) };
    if kind.lan_badge {
        if in_triangle(x, y, 0.0) {
            return Some(Part::Badge);
        }
        if in_triangle(x, y, 0.09) {
            return None; // the gap that separates badge from glyph
        }
    }
    let d = ((x - cx).powi(2) + (y - cy).powi(2)).sqrt();
    let ring = d <= r && d >= r * 0.62;
    let disc = d <= r;
    let hit = match kind.glyph {
        Glyph::NotRunning => ring,
        Glyph::Running => disc,
        Glyph::NotResponding => ring || (disc && x < cx),
    };
    hit.then_some(Part::Glyph)
}

/// The badge: an upward triangle in the lower right, grown by `grow`.
fn in_triangle(x: f32, y: f32, grow: f32) -> bool {
    let (top, bottom, left, right) = (0.52 - grow, 1.0 + grow, 0.48 - grow, 1.0 + grow);
    if y < top || y > bottom {
        return false;
    }
    let mid = (left + right) / 2.0;
    let half = (right - left) / 2.0 * (y - top) / (bottom - top);
    (x - mid).abs() <= half
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alpha_at(px: &[u8], size: u32, x: u32, y: u32) -> u8 {
        px[((y * size + x) * 4 + 3) as usize]
    }

    fn opaque(px: &[u8]) -> usize {
        px.chunks(4).filter(|p| p[3] > 128).count()
    }

    #[test]
    fn each_state_has_its_own_shape_in_one_colour() {
        let shapes: Vec<Vec<u8>> = IconKind::ALL
            .iter()
            .map(|k| render(*k, 44, Style::Template).chunks(4).map(|p| p[3] / 64).collect())
            .collect();
        for a in 0..shapes.len() {
            for b in a + 1..shapes.len() {
                let differing = shapes[a].iter().zip(&shapes[b]).filter(|(x, y)| x != y).count();
                assert!(
                    differing > 40,
                    "{:?} and {:?} differ in only {differing} pixels",
                    IconKind::ALL[a],
                    IconKind::ALL[b]
                );
            }
        }
    }

    /// The opaque columns of the middle row: the disc's width in pixels.
    fn middle_width(px: &[u8], size: u32) -> usize {
        (0..size).filter(|&x| alpha_at(px, size, x, size / 2) > 128).count()
    }

    #[test]
    fn the_macos_glyph_is_about_16_pt_in_the_22_pt_image_and_linux_fills_its_icon() {
        let running = IconKind { glyph: Glyph::Running, lan_badge: false };
        // 44 px: the 22 pt status item image at 2x.
        let points = middle_width(&render(running, 44, Style::Template), 44) as f32 / 2.0;
        assert!((15.5..=16.5).contains(&points), "the disc is {points} pt wide");
        let linux = middle_width(&render(running, 32, Style::Colour), 32) as f32 / 32.0;
        assert!(linux > 0.8, "the Linux disc spans {linux} of its icon");
        // Every state keeps a clear margin at 2x: nothing touches the edge.
        for kind in IconKind::ALL {
            let px = render(kind, 44, Style::Template);
            let edge =
                (0..44).any(|i| [(i, 0), (i, 43), (0, i), (43, i)].iter().any(|&(x, y)| alpha_at(&px, 44, x, y) > 0));
            assert!(!edge, "{kind:?} touches the edge of the image");
        }
    }

    #[test]
    fn not_running_is_hollow_and_running_is_filled() {
        let hollow = render(IconKind { glyph: Glyph::NotRunning, lan_badge: false }, 22, Style::Template);
        let filled = render(IconKind { glyph: Glyph::Running, lan_badge: false }, 22, Style::Template);
        assert_eq!(alpha_at(&hollow, 22, 11, 11), 0);
        assert_eq!(alpha_at(&filled, 22, 11, 11), 255);
    }

    #[test]
    fn the_badge_is_set_apart_by_a_transparent_gap() {
        let k = IconKind { glyph: Glyph::Running, lan_badge: true };
        let px = render(k, 44, Style::Template);
        assert!(alpha_at(&px, 44, 38, 40) > 200, "badge body");
        // Along the diagonal from the disc to the badge there is a clear pixel.
        assert!((26..36).any(|i| alpha_at(&px, 44, i, i) == 0));
        assert!(
            opaque(&px)
                > opaque(&render(IconKind { glyph: Glyph::Running, lan_badge: false }, 44, Style::Template)) / 2
        );
    }

    #[test]
    fn template_pixels_are_black_and_colour_badge_is_red_orange() {
        let k = IconKind { glyph: Glyph::Running, lan_badge: true };
        let t = render(k, 22, Style::Template);
        assert!(t.chunks(4).all(|p| p[..3] == [0, 0, 0]));
        let c = render(k, 44, Style::Colour);
        let i = ((40 * 44 + 38) * 4) as usize;
        assert_eq!(&c[i..i + 3], &COLOUR_BADGE);
    }
}
