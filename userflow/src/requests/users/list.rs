use crate::models::User;

/// `GET /users`: one page; [`crate::page::MembershipList::paginate`] streams them all.
pub type List = crate::page::MembershipList<User>;
