//! "Did you mean …?": the known name closest to an unknown one, for typos in field and key names.

/// The candidate closest to `unknown` by edit distance, ignoring case, when close enough to be a
/// likely typo: at most a third of the shorter name's length (and at least 2) edits, and fewer
/// edits than the shorter name has characters. Ties go to the first candidate.
pub fn closest<'a>(unknown: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let u = unknown.to_ascii_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        let shorter = u.len().min(c.len());
        let limit = (shorter / 3).max(2);
        // The distance is at least the difference in length: a name far longer than any known
        // one (a 3 MB key costs 100 M steps per comparison) cannot be close.
        if u.len().abs_diff(c.len()) > limit {
            continue;
        }
        let dist = osa_distance(u.as_bytes(), c.to_ascii_lowercase().as_bytes());
        if dist <= limit && dist < shorter && best.is_none_or(|(b, _)| dist < b) {
            best = Some((dist, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and transpositions
/// of adjacent bytes, each costing one. Also ranks Arc settings keys (`arc::check`).
pub(crate) fn osa_distance(a: &[u8], b: &[u8]) -> usize {
    let w = b.len() + 1;
    // Three rows: i-2, i-1, i.
    let mut rows = vec![0usize; 3 * w];
    for (j, cell) in rows[2 * w..].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        rows.copy_within(w.., 0);
        let (prev2, rest) = rows.split_at_mut(w);
        let (prev, cur) = rest.split_at_mut(w);
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(prev2[j - 2] + 1);
            }
            cur[j] = d;
        }
    }
    rows[2 * w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osa_counts_transpositions_once() {
        assert_eq!(osa_distance(b"ab", b"ba"), 1);
        assert_eq!(osa_distance(b"", b"abc"), 3);
        assert_eq!(osa_distance(b"kitten", b"sitting"), 3);
        assert_eq!(osa_distance(b"same", b"same"), 0);
    }

    #[test]
    fn camel_case_typos_find_their_field() {
        let fields = ["configResyncInterval", "enableEgress", "logLevel"];
        assert_eq!(closest("confgResyncInterval", fields), Some("configResyncInterval"));
        assert_eq!(closest("enableEgres", fields), Some("enableEgress"));
        assert_eq!(closest("loglevel", fields), Some("logLevel"));
        assert_eq!(closest("tracing", fields), None);
    }
}
