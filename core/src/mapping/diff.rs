//! What a sync writes: per mapped field, write, leave alone, or drop as the echo of our own
//! write (design notes §3–§5). Values arrive here in their [`canonical`](super::values::canonical)
//! form, so the decision is plain string equality.

/// What one mapped field carries into the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldInput {
    /// The source's value now.
    pub new: Option<String>,
    /// The target's value now.
    pub current: Option<String>,
    /// What hubsync last wrote INTO the source field (the opposite direction's sync state);
    /// `None` when it never wrote it, `Some(None)` when it wrote a clear.
    pub last_written_into_source: Option<Option<String>>,
    /// Whether hubsync wrote this target field before (this direction's sync state).
    pub written_before: bool,
}

/// The decision for one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldDecision {
    /// The target differs: write the new value.
    Write,
    /// The target already holds the value (or the source is empty and the target's value is
    /// not ours to erase).
    Unchanged,
    /// The source value is hubsync's own write coming back from the other system.
    Echo,
}

/// Decides one field.
pub fn decide_field(input: &FieldInput) -> FieldDecision {
    if input.new == input.current {
        return FieldDecision::Unchanged;
    }
    if let Some(ours) = &input.last_written_into_source
        && *ours == input.new
    {
        return FieldDecision::Echo;
    }
    // An empty source only clears a value hubsync put there itself: data someone else wrote
    // into the target is never erased by a missing source value.
    if input.new.is_none() && !input.written_before {
        return FieldDecision::Unchanged;
    }
    FieldDecision::Write
}

/// The outcome of a whole object sync, for the sync log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// These target fields are written.
    Write(Vec<String>),
    /// Nothing to write; at least one field was an echo.
    Echo,
    /// Nothing to write.
    Unchanged,
}

/// Sums up the decisions of an object's fields, given as `(target field, decision)`.
pub fn verdict<'a>(decisions: impl IntoIterator<Item = (&'a str, FieldDecision)>) -> Verdict {
    let mut written = Vec::new();
    let mut echo = false;
    for (field, decision) in decisions {
        match decision {
            FieldDecision::Write => written.push(field.to_owned()),
            FieldDecision::Echo => echo = true,
            FieldDecision::Unchanged => {}
        }
    }
    if !written.is_empty() {
        Verdict::Write(written)
    } else if echo {
        Verdict::Echo
    } else {
        Verdict::Unchanged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(new: Option<&str>, current: Option<&str>) -> FieldInput {
        FieldInput {
            new: new.map(Into::into),
            current: current.map(Into::into),
            last_written_into_source: None,
            written_before: false,
        }
    }

    #[test]
    fn equal_values_are_not_written() {
        assert_eq!(
            decide_field(&input(Some("a"), Some("a"))),
            FieldDecision::Unchanged
        );
        assert_eq!(decide_field(&input(None, None)), FieldDecision::Unchanged);
        assert_eq!(
            decide_field(&input(Some("b"), Some("a"))),
            FieldDecision::Write
        );
        assert_eq!(decide_field(&input(Some("b"), None)), FieldDecision::Write);
    }

    #[test]
    fn our_own_write_coming_back_is_an_echo() {
        let mut i = input(Some("pro"), Some("free"));
        i.last_written_into_source = Some(Some("pro".into()));
        assert_eq!(decide_field(&i), FieldDecision::Echo);
        i.last_written_into_source = Some(Some("starter".into()));
        assert_eq!(decide_field(&i), FieldDecision::Write);
        // Already in place beats echo: nothing to write either way.
        let mut same = input(Some("pro"), Some("pro"));
        same.last_written_into_source = Some(Some("pro".into()));
        assert_eq!(decide_field(&same), FieldDecision::Unchanged);
    }

    #[test]
    fn empty_source_clears_only_our_own_values() {
        let mut i = input(None, Some("pro"));
        assert_eq!(decide_field(&i), FieldDecision::Unchanged);
        i.written_before = true;
        assert_eq!(decide_field(&i), FieldDecision::Write);
    }

    #[test]
    fn verdict_prefers_writes_then_echo() {
        use FieldDecision::*;
        assert_eq!(
            verdict([("a", Unchanged), ("b", Write), ("c", Echo)]),
            Verdict::Write(vec!["b".into()])
        );
        assert_eq!(verdict([("a", Unchanged), ("c", Echo)]), Verdict::Echo);
        assert_eq!(verdict([("a", Unchanged)]), Verdict::Unchanged);
        assert_eq!(verdict([]), Verdict::Unchanged);
    }
}
