//! The OpenAPI 3.1 document of the HTTP API, generated from the handlers' `#[utoipa::path]`
//! annotations and served at `GET /api/v1/openapi.json`.
//!
//! Each route module declares its operations in a `#[derive(OpenApi)] struct Api`. This module
//! merges the root modules as they are and the operator modules under `/api/v1`, where every
//! operation gets the operator bearer token (`bearerAuth`) and its 401 answer here, so that no
//! module can leave them out. Paths are server-relative, exactly as served.
//!
//! The document is served without a token: it describes the API and holds no data, and client
//! generators and API tools fetch it before they have credentials.
//!
//! The tests fail when a route registered under `routes/` is missing from the document (or the
//! document names an operation that is not served), so a new route cannot ship undocumented.

use std::sync::LazyLock;

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApiBuilder, Ref, RefOr, ResponseBuilder};

use crate::AppState;
use crate::error::ErrorBody;
use crate::routes::{health, metrics, oauth, operator, webhooks};

/// Where the operator API is nested (see [`crate::app`]).
const OPERATOR_PREFIX: &str = "/api/v1";
/// Name of the operator token's security scheme.
const BEARER: &str = "bearerAuth";

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(serve))
}

/// The document's own fields and the shared components.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "hubsync",
        description = "Bidirectional sync between HubSpot and Userflow: health probes, metrics, \
            webhook ingest and the operator API (`/api/v1`, bearer operator token). Every error \
            answers the `ErrorBody` envelope; any operation may also answer 500 `internal` or \
            503 `unavailable`."
    ),
    paths(serve),
    components(schemas(ErrorBody)),
    tags((name = "openapi", description = "This document."))
)]
struct Base;

/// Modules served at the root, as they are.
fn root_modules() -> Vec<utoipa::openapi::OpenApi> {
    vec![
        health::Api::openapi(),
        metrics::Api::openapi(),
        oauth::Api::openapi(),
        webhooks::Api::openapi(),
    ]
}

/// Modules served under [`OPERATOR_PREFIX`] (their paths are relative to it).
fn operator_modules() -> Vec<utoipa::openapi::OpenApi> {
    vec![
        operator::cluster::Api::openapi(),
        operator::dry_run::Api::openapi(),
        operator::full_sync::Api::openapi(),
        operator::hubspot::Api::openapi(),
        operator::integrations::Api::openapi(),
        operator::mappings::Api::openapi(),
        operator::queues::Api::openapi(),
        operator::sync_log::Api::openapi(),
    ]
}

/// The whole document.
pub(crate) fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Base::openapi();
    for module in root_modules() {
        doc.merge(module);
    }
    let mut ops = OpenApiBuilder::new().build();
    for module in operator_modules() {
        // `merge` joins the methods of one path across modules.
        ops.merge(module);
    }
    for item in ops.paths.paths.values_mut() {
        for op in operations_mut(item) {
            require_operator_token(op);
        }
    }
    let mut doc = doc.nest(OPERATOR_PREFIX, ops);
    let scheme = HttpBuilder::new()
        .scheme(HttpAuthScheme::Bearer)
        .description(Some(
            "An operator token: one of HUBSYNC_OPERATOR_TOKENS, sent as \
             `Authorization: Bearer <token>`.",
        ))
        .build();
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(BEARER, SecurityScheme::Http(scheme));
    if let Some(tags) = &mut doc.tags {
        tags.sort_by(|a, b| a.name.cmp(&b.name));
    }
    doc
}

/// A string schema that lists its values, for a field whose type is an enum of another crate
/// (`#[schema(schema_with = …)]`): pass the enum's `ALL` so that a new value cannot be left
/// out of the document.
pub(crate) fn string_enum<'a>(
    values: impl IntoIterator<Item = &'a str>,
    description: &str,
) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .description(Some(description))
        .build()
}

/// The operations of one path.
fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

/// Every operator route takes the bearer token ([`crate::auth::Operator`]) and answers 401
/// without it.
fn require_operator_token(op: &mut Operation) {
    op.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
    let unauthorized = ResponseBuilder::new()
        .description(
            "Missing or invalid operator token (`missing_operator_token`, \
             `invalid_operator_token`), or the operator API is disabled \
             (`operator_api_disabled`).",
        )
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build();
    op.responses
        .responses
        .entry("401".to_owned())
        .or_insert(RefOr::T(unauthorized));
}

static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(document);

/// This OpenAPI document.
///
/// Generated from the code; open without a token (it holds no data).
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "openapi_document",
    tag = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json"))
)]
async fn serve() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(&DOCUMENT)
}

#[cfg(test)]
mod tests;
