//! Word wrap by display width, for the log pane and for counting its rows. A leaf: it imports
//! nothing of the console.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Greedy word wrap to `room` terminal columns, by display width (a CJK character takes two,
/// a combining mark none and stays with its base); a word wider than a row is split between
/// grapheme clusters. A single cluster wider than `room` gets a row of its own.
pub fn wrap(text: &str, room: usize) -> Vec<String> {
    let mut rows = Vec::new();
    let mut cur = String::new();
    let mut len = 0;
    for word in text.split(' ') {
        let clean: String = word
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let w = clean.width();
        if len > 0 && len + 1 + w > room {
            rows.push(std::mem::take(&mut cur));
            len = 0;
        }
        if len > 0 {
            cur.push(' ');
            len += 1;
        }
        for g in clean.graphemes(true) {
            let gw = g.width();
            if len > 0 && len + gw > room {
                rows.push(std::mem::take(&mut cur));
                len = 0;
            }
            cur.push_str(g);
            len += gw;
        }
    }
    rows.push(cur);
    rows
}

#[cfg(test)]
mod tests {
    use super::wrap;
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn wraps_at_words_and_splits_only_long_words() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("abcdefgh", 3), ["abc", "def", "gh"]);
        assert_eq!(wrap("a abcdef", 4), ["a", "abcd", "ef"]);
        assert_eq!(wrap("", 4), [""]);
        for text in ["Redis did not start: see /tmp/x/redis.log", "a  b   c"] {
            for room in 1..12 {
                let rows = wrap(text, room);
                assert!(rows.iter().all(|r| r.width() <= room), "{rows:?}");
            }
        }
    }

    #[test]
    fn wraps_by_display_width() {
        // CJK: two columns a character; a row of 5 holds two of them, not five.
        assert_eq!(wrap("日本語のログ", 5), ["日本", "語の", "ログ"]);
        assert_eq!(wrap("エラー: 設定", 8), ["エラー:", "設定"]);
        // Combining marks take no column and stay with their base letter.
        let e = "e\u{301}";
        let word = e.repeat(6);
        let rows = wrap(&word, 4);
        assert_eq!(rows, [e.repeat(4), e.repeat(2)]);
        assert!(rows.iter().all(|r| !r.starts_with('\u{301}')), "{rows:?}");
        // Nothing is lost, whatever the width.
        for text in ["日本語 abc 한국어 e\u{301}e\u{301} 🦀🦀", "a 日 b"] {
            for room in 2..12 {
                let rows = wrap(text, room);
                assert!(rows.iter().all(|r| r.width() <= room), "{room}: {rows:?}");
                assert_eq!(rows.join(" ").replace(' ', ""), text.replace(' ', ""));
            }
        }
        // A character wider than the row still shows, on a row of its own.
        assert_eq!(wrap("a日", 1), ["a", "日"]);
    }
}
