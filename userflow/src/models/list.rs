//! The list object and the delete confirmation.

use serde::Deserialize;

/// `{"object":"list","data":[…],"has_more":bool,"url":"…","next_page_url":"…"|null}`.
#[derive(Debug, Clone, Deserialize)]
pub struct List<T> {
    /// Items of this page.
    pub data: Vec<T>,
    /// Whether another page follows.
    #[serde(default)]
    pub has_more: bool,
    /// The listed path.
    #[serde(default)]
    pub url: Option<String>,
    /// The next page (relative or absolute; undocumented). The client pages by
    /// `starting_after` instead.
    #[serde(default)]
    pub next_page_url: Option<String>,
}

/// `{"id":"…","object":"<type>","deleted":true}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Deleted {
    /// Id of the deleted object.
    pub id: String,
    /// Object type, e.g. `user`.
    pub object: String,
    /// Always `true` on success.
    pub deleted: bool,
}
