//! "Did you mean ...?" for near-miss names.

/// The closest of `candidates` to `name`: an exact match ignoring case first, otherwise the
/// smallest edit distance (case-insensitive) if it is at most 1 for names of up to 3
/// characters, else a third of the length, between 2 and 3. Ties go to the first candidate in order.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let length = lower.chars().count();
    let limit = if length <= 3 {
        1
    } else {
        (length / 3).clamp(2, 3)
    };
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let distance = edit_distance(&lower, &candidate.to_lowercase());
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current[j + 1] = (previous[j] + cost)
                .min(previous[j + 1] + 1)
                .min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
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
}
