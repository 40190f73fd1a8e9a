//! Small text helpers shared by the command line and the menu.

use chrono::{DateTime, FixedOffset, Offset, Utc};

/// This machine's offset from UTC at `now`, as chrono's `Local` gives it;
/// `None` when the zone file `TZ` names cannot be read safely, see
/// [`zone_file_is_safe`].
pub fn local_offset(now: DateTime<Utc>) -> Option<FixedOffset> {
    let tz = std::env::var("TZ").ok();
    zone_file_is_safe(tz.as_deref()).then(|| now.with_timezone(&chrono::Local).offset().fix())
}

/// Whether chrono's `Local` may be asked, given `TZ`: it reads the file
/// `TZ` names (`:path`, an absolute path, or a name under the zoneinfo
/// folders, `..` included) whole and with a blocking open, so `/dev/zero`
/// fills memory and a FIFO hangs. Safe when that file, if there is one, is
/// a regular file of at most 1 MiB (or a folder, which chrono fails to
/// read); without `TZ` it reads the system's `/etc/localtime`.
pub fn zone_file_is_safe(tz: Option<&str>) -> bool {
    let Some(tz) = tz.filter(|t| !t.is_empty() && *t != "localtime") else { return true };
    let name = std::path::Path::new(tz.strip_prefix(':').unwrap_or(tz));
    let candidates: Vec<std::path::PathBuf> = if name.is_absolute() {
        vec![name.to_path_buf()]
    } else {
        ["/usr/share/zoneinfo", "/share/zoneinfo", "/etc/zoneinfo", "/usr/share/lib/zoneinfo"]
            .iter()
            .map(|d| std::path::Path::new(d).join(name))
            .collect()
    };
    // The first that exists is what chrono opens; stat waits on nothing.
    match candidates.iter().find_map(|p| std::fs::metadata(p).ok()) {
        Some(meta) => meta.is_dir() || (meta.is_file() && meta.len() <= 1 << 20),
        None => true,
    }
}

/// Makes untrusted text safe to show on one line, and makes different texts
/// look different: control characters, bidi controls, every invisible
/// formatting character (zero-width characters, soft hyphen, tag characters,
/// variation selectors, Hangul fillers, …) and spaces other than U+0020 are
/// written as `\u{XXXX}` escapes, and the text is cut to `max_chars` with an
/// ellipsis. This is the one sanitiser for everything a person reads.
pub fn sanitize(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars * 4));
    let mut count = 0;
    for c in s.chars() {
        let piece = if is_unsafe(c) { format!("\\u{{{:X}}}", c as u32) } else { c.to_string() };
        let len = piece.chars().count();
        if count + len > max_chars {
            while count + 1 > max_chars && out.pop().is_some() {
                count -= 1;
            }
            if max_chars > 0 {
                out.push('…');
            }
            return out;
        }
        out.push_str(&piece);
        count += len;
    }
    out
}

/// [`sanitize`] without the cut: every [`is_unsafe`] character written as
/// a `\u{XXXX}` escape, the text whole. For what a person must be able to
/// copy as it is (a model id), where a cut would print another id.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{{{:X}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// True when `s` holds no [`is_unsafe`] character: it reads as what it is,
/// so it can be copied or printed as it is.
pub fn reads_as_written(s: &str) -> bool {
    !s.chars().any(is_unsafe)
}

/// True for characters that must not reach a person as they are: they
/// move the cursor, change direction, or show as nothing (or as a plain
/// space), so that two different texts could look the same.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || (c.is_whitespace() && c != ' ')
        || matches!(c,
            '\u{00AD}' // soft hyphen
            | '\u{034F}' // combining grapheme joiner
            | '\u{0600}'..='\u{0605}' | '\u{061C}' | '\u{06DD}' | '\u{070F}' | '\u{0890}'..='\u{0891}' | '\u{08E2}'
            | '\u{115F}'..='\u{1160}' // Hangul choseong and jungseong fillers
            | '\u{17B4}'..='\u{17B5}' // Khmer inherent vowels
            | '\u{180B}'..='\u{180F}' // Mongolian variation selectors and vowel separator
            | '\u{200B}'..='\u{200F}' // zero-width characters, LRM, RLM
            | '\u{2028}'..='\u{202E}' // line/paragraph separators, bidi embeddings and overrides
            | '\u{2060}'..='\u{206F}' // word joiner, invisible operators, bidi isolates
            | '\u{2800}' // braille blank
            | '\u{3164}' // Hangul filler
            | '\u{FE00}'..='\u{FE0F}' // variation selectors
            | '\u{FEFF}' // zero-width no-break space
            | '\u{FFA0}' // halfwidth Hangul filler
            | '\u{FFF0}'..='\u{FFFB}' // interlinear annotation and unassigned specials
            | '\u{110BD}' | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}' // Egyptian hieroglyph format controls
            | '\u{1BCA0}'..='\u{1BCA3}' // shorthand format controls
            | '\u{1D173}'..='\u{1D17A}' // musical format controls
            | '\u{E0000}'..='\u{E0FFF}' // tag characters, variation selectors supplement
            | '\u{F0000}'..='\u{10FFFF}') // private use planes
}

/// How long ago `then` was, in the largest whole unit: `45s`, `3m`, `2h`, `5d`.
pub fn age(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - then).num_seconds();
    if secs < 0 {
        return "future".into();
    }
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m", secs / 60),
        3600..=86_399 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

/// Lays out rows as columns separated by two spaces, the last column unpadded.
pub fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..cols).map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', widths[c] - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `export NAME=value`, with the value quoted for POSIX shells.
pub fn export_line(name: &str, value: &str) -> String {
    let quoted = shlex::try_quote(value).map(|q| q.into_owned()).unwrap_or_else(|_| "''".into());
    format!("export {name}={quoted}")
}

/// `s` in double quotes, for messages: `"` and `\\` escaped, and every
/// character [`sanitize`] escapes written as it does (`\u{XXXX}`), so that
/// odd text is visible for what it is, the same way everywhere.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:X}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zone_file_that_is_no_small_regular_file_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let fifo = fifo.display().to_string();
        let up = "../".repeat(12);
        for tz in [format!(":{fifo}"), fifo.clone(), ":/dev/zero".into(), format!("{up}dev/zero")] {
            assert!(!zone_file_is_safe(Some(&tz)), "{tz}");
        }
        for tz in [None, Some(""), Some("localtime"), Some("UTC0"), Some("CET-1CEST"), Some(":/nonexistent/zone")] {
            assert!(zone_file_is_safe(tz), "{tz:?}");
        }
        let small = dir.path().join("zone");
        std::fs::write(&small, b"TZif").unwrap();
        assert!(zone_file_is_safe(Some(&format!(":{}", small.display()))));
    }
    use chrono::TimeZone;

    #[test]
    fn sanitize_replaces_controls_and_bidi_and_bounds_length() {
        assert_eq!(sanitize("a\u{202E}b\nc\u{0}", 80), "a\\u{202E}b\\u{A}c\\u{0}");
        assert_eq!(sanitize("abcdef", 4), "abc…");
        assert_eq!(sanitize("abcd", 4), "abcd");
        assert_eq!(sanitize("日本語", 80), "日本語");
        assert_eq!(sanitize("ab\u{0}", 4), "ab…", "an escape is never cut in half");
    }

    #[test]
    fn invisible_characters_are_escaped_so_different_texts_look_different() {
        for c in [
            '\u{E0041}',
            '\u{E007F}',
            '\u{AD}',
            '\u{3164}',
            '\u{115F}',
            '\u{1160}',
            '\u{FE0F}',
            '\u{E0100}',
            '\u{200B}',
            '\u{2066}',
            '\u{FEFF}',
            '\u{A0}',
            '\u{2003}',
            '\u{180E}',
            '\u{1B}',
            '\u{9B}',
        ] {
            let shown = sanitize(&format!("id{c}"), 80);
            assert_eq!(shown, format!("id\\u{{{:X}}}", c as u32), "{c:?}");
            assert!(shown.chars().all(|c| !is_unsafe(c)));
        }
        assert_ne!(sanitize("a\u{E0041}", 80), sanitize("a\u{E0042}", 80));
        assert_eq!(sanitize("a b-é", 80), "a b-é");
    }

    #[test]
    fn escape_is_sanitize_without_the_cut() {
        let long = format!("a\u{202E}{}", "x".repeat(500));
        assert_eq!(escape(&long), sanitize(&long, usize::MAX / 8));
        assert_eq!(escape(&long).chars().count(), 1 + 8 + 500, "the text whole");
        assert_eq!(escape("ok"), "ok");
    }

    #[test]
    fn quote_shows_odd_characters_plainly() {
        assert_eq!(quote("sleeping"), "\"sleeping\"");
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quote("x\n\u{202E}y"), "\"x\\u{A}\\u{202E}y\"");
    }

    #[test]
    fn age_uses_the_largest_unit() {
        let now = Utc.with_ymd_and_hms(2025, 1, 10, 0, 0, 0).unwrap();
        let ago = |s: i64| age(now - chrono::Duration::seconds(s), now);
        assert_eq!([ago(5), ago(120), ago(7200), ago(3 * 86400)], ["5s", "2m", "2h", "3d"]);
        assert_eq!(ago(-5), "future");
    }

    #[test]
    fn table_aligns_columns() {
        let rows = vec![vec!["URL".into(), "ID".into()], vec!["http://x".into(), "1".into()]];
        assert_eq!(table(&rows), "URL       ID\nhttp://x  1\n");
    }

    #[test]
    fn export_line_quotes_for_the_shell() {
        assert_eq!(export_line("A", "http://h:1/v1"), "export A=http://h:1/v1");
        assert_eq!(export_line("A", "x y'z"), "export A=\"x y'z\"");
        assert_eq!(export_line("A", "$(rm)"), "export A='$(rm)'");
    }
}
