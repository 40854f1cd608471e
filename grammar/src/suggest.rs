//! "Did you mean …?": the nearest known name to a misspelled one, by edit distance.
//!
//! Used by the engine for unknown fields, functions, lists and macros. Distances are
//! optimal-string-alignment distances (Levenshtein plus swaps of two neighbours, so
//! `eventNmae` is one edit from `eventName`), compared case-insensitively.

/// The candidate nearest to `word`, if one is close enough to be a likely typo.
///
/// Close enough means at most one edit per three characters of `word` (at least one),
/// and fewer edits than either name has characters, so short unrelated names are never
/// suggested. Ties go to the alphabetically first candidate, so the answer does not
/// depend on the order of `candidates`. A candidate equal to `word` ignoring case is
/// returned (`EventName` → `eventName`).
///
/// ```
/// use picket_grammar::suggest::nearest;
/// let fields = ["actor.arn", "actor.type", "eventName"];
/// assert_eq!(nearest("actor.ar", fields), Some("actor.arn"));
/// assert_eq!(nearest("eventNmae", fields), Some("eventName"));
/// assert_eq!(nearest("bucket", fields), None);
/// ```
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_lower = word.to_lowercase();
    let word_len = word_lower.chars().count();
    let limit = word_len.max(3) / 3;
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let cand_lower = candidate.to_lowercase();
        let distance = strsim::osa_distance(&word_lower, &cand_lower);
        let cand_len = cand_lower.chars().count();
        if distance > limit || (distance > 0 && (distance >= word_len || distance >= cand_len)) {
            continue;
        }
        let better = match best {
            None => true,
            Some((d, c)) => distance < d || (distance == d && candidate < c),
        };
        if better {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::nearest;

    const FIELDS: [&str; 8] = [
        "actor.arn",
        "actor.type",
        "api.operation",
        "api.service",
        "eventName",
        "src.ip",
        "user_agent",
        "outcome",
    ];
    const FUNCTIONS: [&str; 5] = ["lower", "upper", "len", "entropy", "cidr"];

    #[test]
    fn typos_are_found() {
        assert_eq!(nearest("actor.ar", FIELDS), Some("actor.arn"));
        assert_eq!(nearest("eventNmae", FIELDS), Some("eventName"));
        assert_eq!(nearest("eventname", FIELDS), Some("eventName"));
        assert_eq!(nearest("EVENTNAME", FIELDS), Some("eventName"));
        assert_eq!(nearest("api.operaton", FIELDS), Some("api.operation"));
        assert_eq!(nearest("useragent", FIELDS), Some("user_agent"));
        assert_eq!(nearest("lowr", FUNCTIONS), Some("lower"));
        assert_eq!(nearest("lenn", FUNCTIONS), Some("len"));
        assert_eq!(nearest("entorpy", FUNCTIONS), Some("entropy"));
    }

    #[test]
    fn unrelated_words_get_nothing() {
        assert_eq!(nearest("bucket", FIELDS), None);
        assert_eq!(nearest("region", FIELDS), None);
        assert_eq!(nearest("x", FUNCTIONS), None);
        assert_eq!(nearest("ab", ["cd", "xy"]), None);
        assert_eq!(nearest("sha256", FUNCTIONS), None);
        assert_eq!(nearest("", FUNCTIONS), None);
        assert_eq!(nearest("anything", []), None);
    }

    #[test]
    fn ties_do_not_depend_on_order() {
        assert_eq!(nearest("lover", ["lower", "loved"]), Some("loved"));
        assert_eq!(nearest("lover", ["loved", "lower"]), Some("loved"));
    }
}
