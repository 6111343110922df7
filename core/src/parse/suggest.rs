//! "Did you mean ...?" for near-miss names.

/// The closest of `candidates` to `name`: an exact match ignoring case first, otherwise the
/// smallest edit distance (case-insensitive) if it is at most 1 for names of up to 3
/// characters, else a third of the length, between 2 and 3. Ties go to the first candidate in order.
/// Linear in the candidates' total length (see [`bounded_distance`]).
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower: Vec<char> = name.to_lowercase().chars().collect();
    let length = lower.len();
    let limit = if length <= 3 {
        1
    } else {
        (length / 3).clamp(2, 3)
    };
    let mut best: Option<(usize, &str)> = None;
    let mut other = Vec::new();
    for candidate in candidates {
        other.clear();
        other.extend(candidate.chars().flat_map(char::to_lowercase));
        let within = best.map_or(limit, |(d, _)| d.saturating_sub(1).min(limit));
        if let Some(distance) = bounded_distance(&lower, &other, within) {
            if best.is_none_or(|(d, _)| distance < d) {
                best = Some((distance, candidate));
            }
        }
    }
    best.map(|(_, c)| c)
}

/// The edit distance of `a` and `b` if it is at most `limit`, else `None`. Only the cells
/// within `limit` of the diagonal are computed, so a call costs O(len × limit), not
/// O(len²): a long name compared with many candidates stays linear.
fn bounded_distance(a: &[char], b: &[char], limit: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let far = limit + 1; // any value over the limit
    let mut previous: Vec<usize> = (0..=b.len()).map(|j| j.min(far)).collect();
    let mut current = vec![far; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        let from = (i + 1).saturating_sub(limit).max(1);
        let to = (i + 1 + limit).min(b.len());
        // The cells next to the band, which the next row reads, are over the limit (the
        // others keep stale values that are never read).
        current[0] = (i + 1).min(far);
        if from > 1 {
            current[from - 1] = far;
        }
        if let Some(after) = current.get_mut(to + 1) {
            *after = far;
        }
        let mut row_min = current[0];
        for j in from..=to {
            let cost = usize::from(*ca != b[j - 1]);
            let value = (previous[j - 1] + cost)
                .min(previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(far);
            current[j] = value;
            row_min = row_min.min(value);
        }
        if row_min > limit {
            return None;
        }
        std::mem::swap(&mut previous, &mut current);
    }
    Some(previous[b.len()]).filter(|&d| d <= limit)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn near_misses() {
        let groups = ["Sales", "Support", "Marketing"];
        assert_eq!(closest("sales", groups.into_iter()), Some("Sales"));
        assert_eq!(closest("Saels", groups.into_iter()), Some("Sales"));
        assert_eq!(closest("Marketting", groups.into_iter()), Some("Marketing"));
        assert_eq!(closest("Finance", groups.into_iter()), None);
    }

    /// The banded distance agrees with the full one wherever either is within the limit.
    #[test]
    fn bounded_distance_agrees_with_the_full_one() {
        fn full(a: &[char], b: &[char]) -> usize {
            let mut previous: Vec<usize> = (0..=b.len()).collect();
            for (i, ca) in a.iter().enumerate() {
                let mut current = vec![i + 1; b.len() + 1];
                for (j, cb) in b.iter().enumerate() {
                    let cost = usize::from(ca != cb);
                    current[j + 1] = (previous[j] + cost)
                        .min(previous[j + 1] + 1)
                        .min(current[j] + 1);
                }
                previous = current;
            }
            previous[b.len()]
        }
        let words = [
            "",
            "a",
            "ab",
            "ba",
            "abc",
            "acb",
            "sales",
            "saels",
            "marketing",
            "marketting",
            "xyzzy",
            "aaaa",
            "aaab",
        ];
        for a in words {
            for b in words {
                let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
                for limit in 0..4 {
                    let expected = Some(full(&a, &b)).filter(|&d| d <= limit);
                    assert_eq!(
                        super::bounded_distance(&a, &b, limit),
                        expected,
                        "{a:?} {b:?} {limit}"
                    );
                }
            }
        }
    }
}
