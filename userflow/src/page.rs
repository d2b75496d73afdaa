//! Cursor paging: follows `has_more` and passes the last `data[].id` as `starting_after`.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use futures::stream::BoxStream;
use serde::de::DeserializeOwned;

use crate::models::List;
use crate::requests::ListParams;
use crate::{Client, HttpRequest, Request, Result};

/// An item of a paged list: it has an id usable as `starting_after`.
pub trait Identified {
    /// The id.
    fn cursor_id(&self) -> &str;
}

impl Identified for crate::models::User {
    fn cursor_id(&self) -> &str {
        self.id.as_str()
    }
}
impl Identified for crate::models::Group {
    fn cursor_id(&self) -> &str {
        self.id.as_str()
    }
}
impl Identified for crate::models::WebhookSubscription {
    fn cursor_id(&self) -> &str {
        self.id.as_str()
    }
}
impl Identified for crate::models::AttributeDefinition {
    fn cursor_id(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.name)
    }
}
impl Identified for crate::models::EventDefinition {
    fn cursor_id(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.name)
    }
}

/// A list request that can move its cursor.
pub trait ListRequest: Request<Output = List<Self::Item>> + Clone + Send + 'static {
    /// Item type.
    type Item: Identified + DeserializeOwned + Send + 'static;
    /// Sets `starting_after`.
    fn set_starting_after(&mut self, id: String);
}

/// An item listed at its own collection path, with optional `expand=memberships`.
pub trait MembershipListed:
    Identified + DeserializeOwned + std::fmt::Debug + Clone + Send + 'static
{
    /// The collection path (`/users`, `/groups`).
    const PATH: &'static str;
}

impl MembershipListed for crate::models::User {
    const PATH: &'static str = "/users";
}
impl MembershipListed for crate::models::Group {
    const PATH: &'static str = "/groups";
}

/// `GET /users` or `GET /groups`: one page; [`MembershipList::paginate`] streams them all.
#[derive(Debug, Clone)]
pub struct MembershipList<T> {
    params: ListParams,
    expand_memberships: bool,
    item: PhantomData<fn() -> T>,
}

impl<T> Default for MembershipList<T> {
    fn default() -> Self {
        Self {
            params: ListParams::default(),
            expand_memberships: false,
            item: PhantomData,
        }
    }
}

impl<T: MembershipListed> MembershipList<T> {
    /// All items, default page size.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds `expand=memberships`.
    pub fn expand_memberships(mut self) -> Self {
        self.expand_memberships = true;
        self
    }
}

crate::requests::list_setters!([T: MembershipListed] MembershipList<T>, T);

impl<T: MembershipListed> Request for MembershipList<T> {
    type Output = List<T>;
    fn build(&self) -> HttpRequest {
        let req = HttpRequest::new(reqwest::Method::GET, T::PATH);
        let req = if self.expand_memberships {
            req.query("expand", "memberships")
        } else {
            req
        };
        self.params.apply(req)
    }
}

/// A `Stream` of every item of a list, page after page. Stops after the first error.
pub struct Paginator<T> {
    inner: BoxStream<'static, Result<T>>,
}

impl<T: Send + 'static> Paginator<T> {
    /// Pages through `request` (its `limit` is the page size).
    pub fn new<R: ListRequest<Item = T>>(client: &Client, request: R) -> Self
    where
        T: Identified + DeserializeOwned,
    {
        struct State<R: ListRequest> {
            client: Client,
            request: R,
            buffer: VecDeque<R::Item>,
            done: bool,
        }
        let state = State {
            client: client.clone(),
            request,
            buffer: VecDeque::new(),
            done: false,
        };
        let inner = futures::stream::unfold(state, |mut st| async move {
            loop {
                if let Some(item) = st.buffer.pop_front() {
                    return Some((Ok(item), st));
                }
                if st.done {
                    return None;
                }
                match st.request.send(&st.client).await {
                    Ok(page) => {
                        let last = page.data.last().map(|i| i.cursor_id().to_owned());
                        match (page.has_more, last) {
                            (true, Some(id)) => st.request.set_starting_after(id),
                            _ => st.done = true,
                        }
                        st.buffer.extend(page.data);
                    }
                    Err(e) => {
                        st.done = true;
                        return Some((Err(e), st));
                    }
                }
            }
        });
        Paginator {
            inner: Box::pin(inner),
        }
    }
}

impl<T> Stream for Paginator<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}
