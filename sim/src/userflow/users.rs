//! Users (§3): `POST /users` (upsert with merge semantics, `groups` or `memberships`,
//! `prune_memberships`), `GET /users/{id}`, `GET /users` (list; `email=` filter, compared
//! case-insensitively), `DELETE /users/{id}`, and the simulator's remove-membership path
//! `DELETE /users/{user_id}/memberships/{group_id}`. `expand=memberships` adds memberships.
//! The handlers are [`super::objects`]'s, shared with groups.

use axum::Router;
use serde_json::Value;

use super::Simulator;
use super::errors::ApiResult;
use super::knobs::Knobs;
use super::objects::{self, Object};
use super::paging::Params;
use super::store::{Change, EnvData, ObjectKind, User, UserInput};

/// Users on the API.
pub(crate) struct Users;

impl Object for Users {
    const KIND: ObjectKind = ObjectKind::User;
    type Input = UserInput;

    fn id(input: &UserInput) -> &str {
        &input.id
    }

    fn upsert(d: &mut EnvData, input: UserInput, knobs: &Knobs) -> ApiResult<Vec<Change>> {
        d.upsert_user(input, knobs)
    }

    fn list_filter(p: &Params) -> impl Fn(&User) -> bool {
        let email = p.get("email").map(str::to_lowercase);
        move |u| match &email {
            Some(e) => u
                .attributes
                .get("email")
                .and_then(Value::as_str)
                .is_some_and(|v| v.to_lowercase() == *e),
            None => true,
        }
    }
}

pub(crate) fn routes() -> Router<Simulator> {
    objects::routes::<Users>()
}
