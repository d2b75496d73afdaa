//! Paging: HubSpot's `paging.next.after` cursor and a [`Paginator`] that walks it as a Stream.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::{Client, Request};

/// `{"paging":{"next":{"after":"…","link":"…"}}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Paging {
    /// The next page, absent on the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<NextPage>,
}

/// The cursor of the next page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NextPage {
    /// Opaque cursor (an offset string for search).
    pub after: String,
    /// Link to the next page, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct Page<T> {
    /// The results of this page.
    #[serde(default = "Vec::new")]
    pub results: Vec<T>,
    /// The total number of matches (search only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Cursor of the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paging: Option<Paging>,
}

impl<T> Page<T> {
    /// The `after` cursor of the next page, if any.
    pub fn next_after(&self) -> Option<&str> {
        self.paging
            .as_ref()
            .and_then(|p| p.next.as_ref())
            .map(|n| n.after.as_str())
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T>> + Send>>;

/// A Stream of every item of a paged endpoint: it fetches the first page, yields its results,
/// and follows `paging.next.after` until a page has no `paging`. The first error ends it.
pub struct Paginator<T> {
    inner: BoxStream<T>,
}

impl<T: Send + 'static> Paginator<T> {
    /// Builds a paginator from a page fetcher called with the `after` cursor (`None` first).
    pub fn new<F, Fut>(fetch: F) -> Self
    where
        F: FnMut(Option<String>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Page<T>>> + Send + 'static,
    {
        struct State<F, T> {
            fetch: F,
            after: Option<String>,
            buffer: std::vec::IntoIter<T>,
            done: bool,
        }
        let state = State {
            fetch,
            after: None,
            buffer: Vec::new().into_iter(),
            done: false,
        };
        let stream = futures::stream::unfold(state, |mut st| async move {
            loop {
                if let Some(item) = st.buffer.next() {
                    return Some((Ok(item), st));
                }
                if st.done {
                    return None;
                }
                match (st.fetch)(st.after.take()).await {
                    Ok(page) => {
                        st.after = page.next_after().map(str::to_owned);
                        st.done = st.after.is_none();
                        st.buffer = page.results.into_iter();
                    }
                    Err(e) => {
                        st.done = true;
                        st.buffer = Vec::new().into_iter();
                        return Some((Err(e), st));
                    }
                }
            }
        });
        Paginator {
            inner: Box::pin(stream),
        }
    }
}

impl<T: Send + 'static> Paginator<T> {
    /// Pages through `request` with `client`, moving its `after` cursor page after page.
    pub fn from_request<R: CursorRequest<Item = T>>(client: &Client, request: &R) -> Self {
        let client = client.clone();
        let base = request.clone();
        Paginator::new(move |after| {
            let client = client.clone();
            let mut req = base.clone();
            req.set_after(after);
            async move { client.send(&req).await }
        })
    }
}

/// A one-page request whose `after` cursor can be moved.
pub trait CursorRequest:
    Request<Output = Page<Self::Item>> + Clone + Send + Sync + 'static
{
    /// Item type of a page.
    type Item: Send + 'static;
    /// Sets the `after` cursor.
    fn set_after(&mut self, after: Option<String>);
}

/// Adds the paging setters (`limit`, `after`, `paginate`, optionally `properties`) and
/// [`CursorRequest`] to a request with `limit: Option<u32>` and `after: Option<String>` fields.
macro_rules! paged_request {
    (properties, $ty:ty, $item:ty, limit = $limit_doc:literal, paginate = $pag_doc:literal) => {
        impl $ty {
            /// Properties to return.
            pub fn properties<I: IntoIterator<Item = S>, S: Into<String>>(
                mut self,
                names: I,
            ) -> Self {
                self.properties = names.into_iter().map(Into::into).collect();
                self
            }
        }
        $crate::page::paged_request!($ty, $item, limit = $limit_doc, paginate = $pag_doc);
    };
    ($ty:ty, $item:ty, limit = $limit_doc:literal, paginate = $pag_doc:literal) => {
        impl $ty {
            #[doc = $limit_doc]
            pub fn limit(mut self, limit: u32) -> Self {
                self.limit = Some(limit);
                self
            }

            /// Cursor from `paging.next.after`.
            pub fn after(mut self, after: impl Into<String>) -> Self {
                self.after = Some(after.into());
                self
            }

            #[doc = $pag_doc]
            pub fn paginate(&self, client: &$crate::Client) -> $crate::Paginator<$item> {
                $crate::Paginator::from_request(client, self)
            }
        }

        impl $crate::page::CursorRequest for $ty {
            type Item = $item;
            fn set_after(&mut self, after: Option<String>) {
                self.after = after;
            }
        }
    };
}
pub(crate) use paged_request;

impl<T> Stream for Paginator<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn page(items: Vec<u32>, after: Option<&str>) -> Page<u32> {
        Page {
            results: items,
            total: None,
            paging: after.map(|a| Paging {
                next: Some(NextPage {
                    after: a.to_owned(),
                    link: None,
                }),
            }),
        }
    }

    #[test]
    fn paginator_follows_after_until_no_paging() {
        let p = Paginator::new(|after: Option<String>| async move {
            Ok(match after.as_deref() {
                None => page(vec![1, 2], Some("2")),
                Some("2") => page(vec![3], Some("3")),
                _ => page(vec![], None),
            })
        });
        let got: Vec<u32> = futures::executor::block_on(p.map(|r| r.unwrap_or(0)).collect());
        assert_eq!(got, vec![1, 2, 3]);
    }

    #[test]
    fn paginator_stops_after_first_error() {
        let p = Paginator::new(|after: Option<String>| async move {
            match after {
                None => Ok(page(vec![1], Some("1"))),
                Some(_) => Err(crate::Error::InvalidRequest("boom".into())),
            }
        });
        let got: Vec<bool> = futures::executor::block_on(p.map(|r| r.is_ok()).collect());
        assert_eq!(got, vec![true, false]);
    }
}
