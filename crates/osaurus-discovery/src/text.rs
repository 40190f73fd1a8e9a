//! Small text helpers shared by the command line and the menu.

use chrono::{DateTime, Utc};

/// Makes untrusted text safe to show on one line: control characters,
/// Unicode bidi overrides and other invisible formatting characters are
/// replaced, and the text is cut to `max_chars` with an ellipsis.
pub fn sanitize(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars * 4));
    for (n, c) in s.chars().enumerate() {
        if n == max_chars {
            out.pop();
            out.push('…');
            break;
        }
        out.push(if is_unsafe(c) { '\u{FFFD}' } else { c });
    }
    out
}

fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}' // zero-width characters, LRM, RLM
            | '\u{2028}'..='\u{202E}' // line/paragraph separators, bidi embeddings and overrides
            | '\u{2060}'..='\u{206F}' // word joiner, bidi isolates, invisible operators
            | '\u{FEFF}' // zero-width no-break space
            | '\u{FFF9}'..='\u{FFFB}') // interlinear annotation
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn sanitize_replaces_controls_and_bidi_and_bounds_length() {
        assert_eq!(sanitize("a\u{202E}b\nc\u{0}", 80), "a\u{FFFD}b\u{FFFD}c\u{FFFD}");
        assert_eq!(sanitize("abcdef", 4), "abc…");
        assert_eq!(sanitize("abcd", 4), "abcd");
        assert_eq!(sanitize("日本語", 80), "日本語");
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
