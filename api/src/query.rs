//! Query-string parameters with our error envelope. Each route names the parameters it
//! accepts; an unknown or repeated parameter, or a value out of range, is a 400 `bad_request`
//! that names the parameter. An empty value (`?tenant=`) counts as absent.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use crate::error::{ApiError, Code};

/// The parsed query string of one request.
#[derive(Debug, Default)]
pub(crate) struct Params(BTreeMap<String, String>);

impl Params {
    /// Parses `raw`, accepting only the parameters in `allowed`.
    pub(crate) fn parse(raw: Option<&str>, allowed: &[&str]) -> Result<Self, ApiError> {
        let mut map = BTreeMap::new();
        for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            if !allowed.contains(&k.as_ref()) {
                let hint = if allowed.is_empty() {
                    "this route takes no query parameters".to_owned()
                } else {
                    format!("allowed: {}", allowed.join(", "))
                };
                return Err(bad(format!("unknown query parameter `{k}` ({hint})")));
            }
            if map.insert(k.to_string(), v.into_owned()).is_some() {
                return Err(bad(format!(
                    "query parameter `{k}` is given more than once"
                )));
            }
        }
        Ok(Self(map))
    }

    /// The value of `name`, if present and not empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// An integer in `range`, or `default` when absent.
    pub(crate) fn int_in(
        &self,
        name: &str,
        range: RangeInclusive<u64>,
        default: u64,
    ) -> Result<u64, ApiError> {
        let Some(raw) = self.get(name) else {
            return Ok(default);
        };
        match raw.parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(bad(format!(
                "`{name}` must be an integer in {}..={} (got `{raw}`)",
                range.start(),
                range.end()
            ))),
        }
    }
}

/// A keyset page from rows fetched with a limit of `limit + 1`: the first `limit` rows, and,
/// when there were more, the cursor of the last row kept.
pub(crate) fn page<T>(
    mut rows: Vec<T>,
    limit: u64,
    cursor_of: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if rows.len() <= limit {
        return (rows, None);
    }
    rows.truncate(limit);
    let next_cursor = rows.last().map(cursor_of);
    (rows, next_cursor)
}

/// A 400 `bad_request`.
pub(crate) fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(Code::BadRequest, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_repeated_and_out_of_range_parameters_are_named() {
        let e = Params::parse(Some("stat=dead"), &["state"]).expect_err("unknown");
        assert!(e.message.contains("`stat`"), "{}", e.message);
        let e = Params::parse(Some("state=a&state=b"), &["state"]).expect_err("repeated");
        assert!(e.message.contains("`state`"), "{}", e.message);
        let p = Params::parse(Some("limit=0&tenant=&x=%C3%A9"), &["limit", "tenant", "x"])
            .expect("parse");
        assert_eq!(p.get("tenant"), None);
        assert_eq!(p.get("x"), Some("é"));
        let e = p.int_in("limit", 1..=500, 50).expect_err("range");
        assert!(e.message.contains("`limit`"), "{}", e.message);
        assert_eq!(p.int_in("window_s", 1..=10, 7).expect("default"), 7);
    }

    #[test]
    fn a_page_keeps_limit_rows_and_cursors_the_last_only_when_more_follow() {
        let cursor = |n: &u32| format!("c{n}");
        assert_eq!(
            page(vec![1, 2, 3], 2, cursor),
            (vec![1, 2], Some("c2".into()))
        );
        assert_eq!(page(vec![1, 2], 2, cursor), (vec![1, 2], None));
        assert_eq!(page(Vec::<u32>::new(), 2, cursor), (vec![], None));
    }
}
