//! The document against the code: every route registered under `routes/` is documented with
//! each of its methods, every documented operation is served, and the document holds together
//! (unique operation ids, declared tags, path parameters, resolvable references, the operator
//! token on `/api/v1`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use utoipa::OpenApi as _;

use super::*;
use crate::test_support::TestApp;

/// Route paths given as constants, by the constant's name: the compiler keeps the values true.
/// A route registered with another constant is reported; add it here.
const PATH_CONSTANTS: &[(&str, &str)] =
    &[("CALLBACK_PATH", hubsync_sync::connection::CALLBACK_PATH)];

const METHODS: [&str; 8] = [
    "get", "post", "put", "delete", "patch", "head", "options", "trace",
];

fn doc() -> Value {
    serde_json::to_value(document()).expect("document as JSON")
}

// ---- reading route registrations from the source ----

/// One `.route("<path>", <method>(…).<method>(…))` of a source file.
#[derive(Debug, PartialEq, Eq)]
struct Registration {
    /// As written, relative to the router it is registered on.
    path: String,
    methods: Vec<String>,
}

/// What a source file registers, and what the reader could not understand.
#[derive(Debug, Default)]
struct Registrations {
    routes: Vec<Registration>,
    problems: Vec<String>,
}

/// `src` with comments blanked and the contents of string and char literals replaced by `_`
/// (quotes kept), byte for byte, so that structure can be read from it and literal values
/// from `src` at the same offsets.
fn mask(src: &str) -> Vec<u8> {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    out[i] = b' ';
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        out[i] = b' ';
                        out[i + 1] = b' ';
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        out[i] = b' ';
                        out[i + 1] = b' ';
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if b[i] != b'\n' {
                            out[i] = b' ';
                        }
                        i += 1;
                    }
                }
            }
            b'r' if (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
                && (i == 0 || !is_ident(b[i - 1])) =>
            {
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                j += 1;
                while j < b.len() && !b[j..].starts_with(&close) {
                    out[j] = b'_';
                    j += 1;
                }
                i = j + close.len();
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        out[i] = b'_';
                        i += 1;
                    }
                    if i < b.len() {
                        out[i] = b'_';
                    }
                    i += 1;
                }
                i += 1;
            }
            b'\'' => {
                // A char literal ('x', '\n', '\u{..}'), or a lifetime (left as is).
                let end = if b.get(i + 1) == Some(&b'\\') {
                    b[i + 2..]
                        .iter()
                        .position(|c| *c == b'\'')
                        .map(|p| i + 2 + p)
                } else {
                    let len = src[i + 1..].chars().next().map_or(1, char::len_utf8);
                    (b.get(i + 1 + len) == Some(&b'\'')).then_some(i + 1 + len)
                };
                match end {
                    Some(end) => {
                        out[i + 1..end].fill(b'_');
                        i = end + 1;
                    }
                    None => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The offset just past the bracket matching the one at `open`.
fn matching(m: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in m.iter().enumerate().skip(open) {
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn skip_ws(m: &[u8], mut i: usize) -> usize {
    while m.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// Blanks every `#[cfg(test)] mod … { … }` block (tests may build routers of their own).
fn drop_test_modules(m: &mut [u8]) {
    let marker = b"#[cfg(test)]";
    let mut from = 0;
    while let Some(p) = find(m, marker, from) {
        from = p + marker.len();
        let mut i = skip_ws(m, from);
        if m[i..].starts_with(b"pub") {
            i += 3;
            if m.get(i) == Some(&b'(') {
                i = matching(m, i).unwrap_or(i);
            }
            i = skip_ws(m, i);
        }
        if !m[i..].starts_with(b"mod ") {
            continue;
        }
        let Some(open) = m[i..].iter().position(|c| *c == b'{' || *c == b';') else {
            continue;
        };
        let open = i + open;
        if m[open] == b'{' {
            let end = matching(m, open).unwrap_or(m.len());
            m[p..end].fill(b' ');
            from = end;
        }
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The arguments of the call whose `(` is at `open`, as byte ranges, split at top-level commas.
fn arguments(m: &[u8], open: usize) -> Option<Vec<(usize, usize)>> {
    let close = matching(m, open)? - 1;
    let mut args = Vec::new();
    let mut depth = 0usize;
    let mut start = open + 1;
    for (i, c) in m.iter().enumerate().take(close).skip(open + 1) {
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 => {
                args.push((start, i));
                start = i + 1;
            }
            _ => {}
        }
    }
    if m[start..close].iter().any(|c| !c.is_ascii_whitespace()) {
        args.push((start, close));
    }
    Some(args)
}

/// The route registrations of one source file.
fn registrations(src: &str) -> Registrations {
    let mut m = mask(src);
    drop_test_modules(&mut m);
    let mut found = Registrations::default();
    let text = |(a, b): (usize, usize)| src[a..b].trim().to_owned();
    for unsupported in [".nest(", ".nest_service(", ".route_service(", ".fallback("] {
        if find(&m, unsupported.as_bytes(), 0).is_some() {
            found.problems.push(format!(
                "`{unsupported}…)` hides paths from this test: register each route with \
                 `.route(\"<path>\", <method>(handler))`"
            ));
        }
    }
    let mut from = 0;
    while let Some(p) = find(&m, b"route", from) {
        from = p + 5;
        let before = m[..p].iter().rev().find(|c| !c.is_ascii_whitespace());
        let open = skip_ws(&m, p + 5);
        if before != Some(&b'.') || (p > 0 && is_ident(m[p - 1])) || m.get(open) != Some(&b'(') {
            continue;
        }
        let Some(args) = arguments(&m, open) else {
            found
                .problems
                .push(format!("unbalanced `.route(` at byte {p}"));
            continue;
        };
        let [path, methods] = args[..] else {
            found.problems.push(format!(
                "`.route(` with {} arguments at byte {p}",
                args.len()
            ));
            continue;
        };
        let raw_path = text(path);
        let constant = raw_path.rsplit("::").next().unwrap_or_default();
        let path = match raw_path.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            Some(literal) if !literal.contains('"') => literal.to_owned(),
            _ => match PATH_CONSTANTS.iter().find(|(name, _)| *name == constant) {
                Some((_, value)) => (*value).to_owned(),
                None => {
                    found.problems.push(format!(
                        "the path of a route must be a string literal or a constant listed in \
                         PATH_CONSTANTS (got `{raw_path}`)"
                    ));
                    continue;
                }
            },
        };
        // Method routers at the top level of the second argument: `get(a).delete(b)`.
        let (a, b) = methods;
        let mut names = Vec::new();
        let mut depth = 0usize;
        let mut i = a;
        while i < b {
            match m[i] {
                b'(' | b'[' | b'{' => {
                    depth += 1;
                    i += 1;
                }
                b')' | b']' | b'}' => {
                    depth = depth.saturating_sub(1);
                    i += 1;
                }
                c if is_ident(c) && depth == 0 && !is_ident(m[i - 1]) => {
                    let start = i;
                    while i < b && is_ident(m[i]) {
                        i += 1;
                    }
                    if m.get(skip_ws(&m, i)) == Some(&b'(') {
                        names.push(src[start..i].to_owned());
                    }
                }
                _ => i += 1,
            }
        }
        let methods: Vec<String> = names
            .iter()
            .filter(|n| METHODS.contains(&n.as_str()))
            .cloned()
            .collect();
        if let Some(opaque) = names.iter().find(|n| ["any", "on"].contains(&n.as_str())) {
            found.problems.push(format!(
                "`{path}`: `{opaque}(…)` hides the methods from this test; use one method \
                 router per method"
            ));
        } else if methods.is_empty() {
            found.problems.push(format!(
                "`{path}`: no method router found in `{}`",
                text((a, b))
            ));
        } else {
            found.routes.push(Registration { path, methods });
        }
    }
    found
}

/// Every `.rs` file under `dir` that is not a test file, relative to `dir`.
fn source_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read routes dir") {
            let path = entry.expect("dir entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if path.is_dir() {
                if name != "tests" {
                    stack.push(path);
                }
            } else if name.ends_with(".rs") && !name.ends_with("tests.rs") {
                let rel = path
                    .strip_prefix(dir)
                    .expect("under dir")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, path));
            }
        }
    }
    out.sort();
    out
}

/// `(file, served path, methods)` of every registration of the crate's route sources, with
/// the problems found per file. Files under `routes/operator/` are nested under `/api/v1`.
#[allow(clippy::type_complexity)]
fn served_routes() -> (
    Vec<(String, String, Vec<String>)>,
    BTreeMap<String, Vec<String>>,
) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = source_files(&src.join("routes"));
    // The document's own route (its problems are not route-module problems: it calls
    // utoipa's `nest`; a misread route shows as documented but not registered).
    files.push(("../openapi.rs".to_owned(), src.join("openapi.rs")));
    let mut routes = Vec::new();
    let mut problems = BTreeMap::new();
    for (rel, path) in files {
        let text = std::fs::read_to_string(&path).expect("read source");
        let found = registrations(&text);
        if !found.problems.is_empty() && !rel.starts_with("../") {
            problems.insert(rel.clone(), found.problems);
        }
        let prefix = if rel.starts_with("operator/") {
            OPERATOR_PREFIX
        } else {
            ""
        };
        for r in found.routes {
            routes.push((rel.clone(), format!("{prefix}{}", r.path), r.methods));
        }
    }
    (routes, problems)
}

/// Every `(path, method)` of the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                out.insert((path.clone(), method.to_owned()));
            }
        }
    }
    out
}

// ---- the tests ----

#[test]
fn the_reader_finds_routes_as_rustfmt_writes_them() {
    let src = r#"
        pub(crate) fn router() -> Router<AppState> {
            Router::new()
                .route("/a", get(a))
                // .route("/commented", get(x))
                .route(
                    "/b/{id}",
                    get(show).put(replace).delete(remove),
                )
                .route("/c", axum::routing::post(c).layer(DefaultBodyLimit::max(1)))
                .route_layer(middleware)
                .route(connection::CALLBACK_PATH, get(callback))
                .route(OTHER_PATH, get(other))
                .route("/d", any(d))
        }
        const S: &str = ".route(\"/in-a-string\", get(x))";
        const C: char = '(';
        fn f<'a>(x: &'a str) {}
        #[cfg(test)]
        mod tests {
            fn t() { Router::new().route("/test-only", get(x)); }
        }
    "#;
    let found = registrations(src);
    assert_eq!(
        found.routes,
        vec![
            Registration {
                path: "/a".into(),
                methods: vec!["get".into()]
            },
            Registration {
                path: "/b/{id}".into(),
                methods: vec!["get".into(), "put".into(), "delete".into()]
            },
            Registration {
                path: "/c".into(),
                methods: vec!["post".into()]
            },
            Registration {
                path: hubsync_sync::connection::CALLBACK_PATH.into(),
                methods: vec!["get".into()]
            },
        ]
    );
    assert_eq!(found.problems.len(), 2, "{:?}", found.problems);
    assert!(found.problems[0].contains("OTHER_PATH"));
    assert!(found.problems[1].contains("`any(…)`"));
}

/// Each registered `(path, method)` of `routes` that `ops` does not document, as
/// `METHOD path (routes/file)`.
fn undocumented(
    routes: &[(String, String, Vec<String>)],
    ops: &BTreeSet<(String, String)>,
) -> Vec<String> {
    routes
        .iter()
        .flat_map(|(file, path, methods)| {
            methods
                .iter()
                .filter(|m| !ops.contains(&(path.clone(), (*m).clone())))
                .map(move |m| format!("{} {path} (routes/{file})", m.to_uppercase()))
        })
        .collect()
}

#[test]
fn every_route_is_documented_with_each_method() {
    let (routes, problems) = served_routes();
    assert!(
        problems.is_empty(),
        "route sources this test cannot read: {problems:#?}"
    );
    let missing = undocumented(&routes, &documented(&doc()));
    assert!(
        missing.is_empty(),
        "routes without an OpenAPI operation (annotate the handler with #[utoipa::path] and \
         list it in its module's `Api`):\n{}",
        missing.join("\n")
    );
}

#[test]
fn an_undocumented_route_or_method_is_reported() {
    let (mut routes, _) = served_routes();
    let ops = documented(&doc());
    assert!(undocumented(&routes, &ops).is_empty());
    routes.push((
        "operator/new.rs".into(),
        "/api/v1/not-documented".into(),
        vec!["get".into()],
    ));
    routes.push((
        "operator/queues.rs".into(),
        "/api/v1/queues".into(),
        vec!["get".into(), "patch".into()],
    ));
    assert_eq!(
        undocumented(&routes, &ops),
        [
            "GET /api/v1/not-documented (routes/operator/new.rs)",
            "PATCH /api/v1/queues (routes/operator/queues.rs)",
        ]
    );
}

#[test]
fn every_documented_operation_is_registered() {
    let (routes, _) = served_routes();
    let registered: BTreeSet<(String, String)> = routes
        .iter()
        .flat_map(|(_, path, methods)| methods.iter().map(|m| (path.clone(), m.clone())))
        .collect();
    let phantom: Vec<_> = documented(&doc())
        .into_iter()
        .filter(|op| !registered.contains(op))
        .collect();
    assert!(
        phantom.is_empty(),
        "documented but not registered (wrong `path` or method in #[utoipa::path]?): \
         {phantom:?}"
    );
    assert!(
        registered.contains(&("/api/v1/queues/{queue}/jobs".into(), "delete".into())),
        "the reader must see the operator routes: {registered:?}"
    );
}

#[test]
fn every_operation_is_complete_and_consistent() {
    let doc = doc();
    let tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| {
            assert!(t["description"].is_string(), "tag without description: {t}");
            t["name"].as_str().expect("tag name")
        })
        .collect();
    let mut ids = BTreeSet::new();
    let mut problems = Vec::new();
    for (path, method) in documented(&doc) {
        let op = &doc["paths"][&path][&method];
        let at = format!("{} {path}", method.to_uppercase());
        match op["operationId"].as_str() {
            Some(id) if ids.insert(id.to_owned()) => {}
            id => problems.push(format!("{at}: operationId {id:?} missing or repeated")),
        }
        if op["summary"].as_str().is_none_or(str::is_empty) {
            problems.push(format!("{at}: no summary (doc comment on the handler)"));
        }
        let op_tags = op["tags"].as_array().cloned().unwrap_or_default();
        if op_tags.is_empty()
            || op_tags
                .iter()
                .any(|t| !tags.contains(t.as_str().unwrap_or("")))
        {
            problems.push(format!(
                "{at}: tags {op_tags:?} must be declared in the module's `Api` (`tags(...)`)"
            ));
        }
        let responses = op["responses"].as_object().expect("responses");
        if !responses.keys().any(|s| s.starts_with('2')) {
            problems.push(format!("{at}: no 2XX response"));
        }
        let in_template: BTreeSet<&str> = path
            .split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}').map(|(name, _)| name))
            .collect();
        let in_params: BTreeSet<&str> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path")
                    .filter_map(|p| p["name"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        if in_template != in_params {
            problems.push(format!(
                "{at}: path parameters {in_params:?} do not match the template {in_template:?}"
            ));
        }
        let operator = path.starts_with(OPERATOR_PREFIX) && path != "/api/v1/openapi.json";
        let bearer = op["security"] == serde_json::json!([{ BEARER: [] }]);
        if operator && !(bearer && responses.contains_key("401")) {
            problems.push(format!(
                "{at}: the operator token and its 401 must be documented"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(
        doc["components"]["securitySchemes"][BEARER],
        serde_json::json!({
            "type": "http",
            "scheme": "bearer",
            "description": doc["components"]["securitySchemes"][BEARER]["description"],
        })
    );
}

#[test]
fn every_reference_resolves() {
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let doc = doc();
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.contains(&"#/components/schemas/ErrorBody"));
    let dangling: Vec<_> = all
        .into_iter()
        .filter(|r| {
            let Some(pointer) = r.strip_prefix('#') else {
                return true;
            };
            doc.pointer(pointer).is_none()
        })
        .collect();
    assert!(dangling.is_empty(), "unresolved references: {dangling:?}");
}

#[test]
fn schema_names_are_not_shared_by_different_shapes() {
    // `merge` keeps the first schema of a name and drops the others silently.
    let mut seen: BTreeMap<String, Value> = BTreeMap::new();
    let mut clashes = Vec::new();
    for module in std::iter::once(Base::openapi())
        .chain(root_modules())
        .chain(operator_modules())
    {
        let schemas = module.components.map(|c| c.schemas).unwrap_or_default();
        for (name, schema) in schemas {
            let schema = serde_json::to_value(schema).expect("schema");
            match seen.get(&name) {
                Some(other) if *other != schema => clashes.push(name),
                Some(_) => {}
                None => {
                    seen.insert(name, schema);
                }
            }
        }
    }
    assert!(
        clashes.is_empty(),
        "schema names used by different types (rename one with #[schema(as = …)]): {clashes:?}"
    );
}

#[test]
fn the_job_state_schema_lists_every_state() {
    let doc = doc();
    let states = &doc["components"]["schemas"]["JobState"]["enum"];
    let expected: Vec<&str> = hubsync_queue::JobState::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(*states, serde_json::json!(expected));
}

#[test]
fn the_integration_status_schema_lists_every_status() {
    let doc = doc();
    let expected: Vec<&str> = hubsync_entities::IntegrationStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    for schema in ["Integration", "IntegrationStatusReport"] {
        let states = &doc["components"]["schemas"][schema]["properties"]["status"]["enum"];
        assert_eq!(*states, serde_json::json!(expected), "{schema}");
    }
}

#[test]
fn enum_fields_list_every_value() {
    fn values<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Value {
        all.iter().map(|v| as_str(*v)).collect()
    }
    use hubsync_entities::{
        EventStreamMode, FieldDataType, FullSyncStatus, FullSyncTrigger, SyncDirection,
        SyncOutcome, UserflowMatchAttribute, UserflowObjectType,
    };
    let doc = doc();
    let cases = [
        (
            "FullSyncRun",
            "status",
            values(FullSyncStatus::ALL, FullSyncStatus::as_str),
        ),
        (
            "FullSyncRun",
            "trigger",
            values(FullSyncTrigger::ALL, FullSyncTrigger::as_str),
        ),
        (
            "FullSyncShardProgress",
            "status",
            values(FullSyncStatus::ALL, FullSyncStatus::as_str),
        ),
        (
            "SyncLogEntry",
            "direction",
            values(SyncDirection::ALL, SyncDirection::as_str),
        ),
        (
            "SyncLogEntry",
            "outcome",
            values(SyncOutcome::ALL, SyncOutcome::as_str),
        ),
        (
            "Mapping",
            "userflow_object_type",
            values(UserflowObjectType::ALL, UserflowObjectType::as_str),
        ),
        (
            "MappingBody",
            "userflow_object_type",
            values(UserflowObjectType::ALL, UserflowObjectType::as_str),
        ),
        (
            "MappingMatch",
            "userflow_attribute",
            values(UserflowMatchAttribute::ALL, UserflowMatchAttribute::as_str),
        ),
        (
            "MappingMatchBody",
            "userflow_attribute",
            values(UserflowMatchAttribute::ALL, UserflowMatchAttribute::as_str),
        ),
        (
            "MappingEvents",
            "mode",
            values(EventStreamMode::ALL, EventStreamMode::as_str),
        ),
        (
            "MappingEventsBody",
            "mode",
            values(EventStreamMode::ALL, EventStreamMode::as_str),
        ),
        (
            "FieldToUserflow",
            "type",
            values(FieldDataType::ALL, FieldDataType::as_str),
        ),
        (
            "FieldToHubspot",
            "type",
            values(FieldDataType::ALL, FieldDataType::as_str),
        ),
        (
            "FieldToUserflowBody",
            "type",
            values(FieldDataType::ALL, FieldDataType::as_str),
        ),
        (
            "FieldToHubspotBody",
            "type",
            values(FieldDataType::ALL, FieldDataType::as_str),
        ),
    ];
    for (schema, field, expected) in cases {
        let listed = &doc["components"]["schemas"][schema]["properties"][field]["enum"];
        assert_eq!(*listed, expected, "{schema}.{field}");
    }
}

#[test]
fn an_invalid_mapping_documents_its_problems() {
    let doc = doc();
    let saves = [
        ("/api/v1/integrations/{id}/mappings", "post"),
        ("/api/v1/integrations/{id}/mappings/validate", "post"),
        ("/api/v1/integrations/{id}/mappings/{mapping_id}", "put"),
    ];
    for (path, method) in saves {
        let schema = &doc["paths"][path][method]["responses"]["422"]["content"]["application/json"]
            ["schema"]["$ref"];
        assert_eq!(
            *schema, "#/components/schemas/InvalidMapping",
            "{method} {path}"
        );
    }
    let invalid = &doc["components"]["schemas"]["InvalidMapping"];
    assert_eq!(
        invalid["properties"]["problems"],
        serde_json::json!({
            "type": "array",
            "items": {"type": "string"},
            "description": invalid["properties"]["problems"]["description"],
        })
    );
    assert_eq!(
        invalid["properties"]["code"]["enum"],
        serde_json::json!(["invalid_mapping"])
    );
    let required: BTreeSet<&str> = invalid["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        required,
        BTreeSet::from(["message", "code", "type", "problems"])
    );
}

#[test]
fn webhooks_document_their_signature_and_refusals() {
    let doc = doc();
    let webhooks: Vec<(String, String)> = documented(&doc)
        .into_iter()
        .filter(|(path, _)| path.starts_with("/webhooks/"))
        .collect();
    assert_eq!(webhooks.len(), 2, "{webhooks:?}");
    for (path, method) in webhooks {
        let op = &doc["paths"][&path][&method];
        let signed = op["parameters"].as_array().is_some_and(|ps| {
            ps.iter().any(|p| {
                p["in"] == "header"
                    && p["required"] == true
                    && p["name"].as_str().is_some_and(|n| n.contains("Signature"))
            })
        });
        assert!(signed, "{path}: no required signature header");
        for status in ["200", "400", "401", "413", "503"] {
            assert!(op["responses"][status].is_object(), "{path}: no {status}");
        }
        // The signature is the credential: no operator token.
        assert_eq!(op["security"], serde_json::json!([{}]), "{path}");
    }
}

#[tokio::test]
async fn the_document_is_served_without_a_token() {
    let app = TestApp::new(&["op"]).await;
    let (status, content_type, body) = app.raw("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(content_type, "application/json");
    let served: Value = serde_json::from_str(&body).expect("JSON");
    assert!(
        served["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.")),
        "{}",
        served["openapi"]
    );
    assert_eq!(served["info"]["title"], "hubsync");
    assert_eq!(served["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(served["paths"]["/api/v1/queues"]["get"].is_object());
    assert!(served["paths"]["/healthz"]["get"].is_object());
    assert!(
        served["paths"].get("/queues").is_none(),
        "paths are as served"
    );
    assert!(served["components"]["schemas"]["ErrorBody"].is_object());
    assert_eq!(served, doc());
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let app = TestApp::new(&["op"]).await;
    for (path, method) in documented(&doc()) {
        let uri = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        let (status, _, body) = app.raw(&method.to_uppercase(), &uri, None, None).await;
        let at = format!("{} {uri}", method.to_uppercase());
        assert_ne!(status, 405, "{at}: method not routed");
        assert!(status != 404 || !body.is_empty(), "{at}: path not routed");
        if path.starts_with(OPERATOR_PREFIX) && path != "/api/v1/openapi.json" {
            assert_eq!(
                status, 401,
                "{at}: the operator token is checked first: {body}"
            );
        }
    }
}
