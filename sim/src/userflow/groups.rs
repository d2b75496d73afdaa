//! Groups / companies (§5): `POST /groups` (upsert, merge semantics), `GET /groups/{id}`,
//! `GET /groups` (list), `DELETE /groups/{id}` (memberships and events deleted, users stay),
//! and the simulator's remove-membership path `DELETE /groups/{group_id}/memberships/{user_id}`
//! (Userflow's real path is unconfirmed). `expand=memberships` adds memberships.
//! The handlers are [`super::objects`]'s, shared with users.

use axum::Router;

use super::Simulator;
use super::errors::ApiResult;
use super::knobs::Knobs;
use super::objects::{self, Object};
use super::paging::Params;
use super::store::{Change, EnvData, GroupInput, ObjectKind, User};

/// Groups on the API.
pub(crate) struct Groups;

impl Object for Groups {
    const KIND: ObjectKind = ObjectKind::Group;
    type Input = GroupInput;

    fn id(input: &GroupInput) -> &str {
        &input.id
    }

    fn upsert(d: &mut EnvData, input: GroupInput, knobs: &Knobs) -> ApiResult<Vec<Change>> {
        d.upsert_group(input, knobs)
    }

    fn list_filter(_: &Params) -> impl Fn(&User) -> bool {
        |_| true
    }
}

pub(crate) fn routes() -> Router<Simulator> {
    objects::routes::<Groups>()
}
