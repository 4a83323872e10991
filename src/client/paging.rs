//! Laravel pagination: [`PaginatedResponse`] and the page iterator.

use std::collections::HashSet;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{de, Operation};
use crate::ApiError;
use crate::{RunbeamClient, RunbeamError};

/// Most pages a [`PageIter`] fetches unless told otherwise.
pub const DEFAULT_MAX_PAGES: u32 = 10_000;

/// One page of a list: `{"data": [...], "links": {...}, "meta": {...}}`.
///
/// `links` and `meta` are optional: a bare `{"data": []}` parses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PaginatedResponse<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// Links to neighbouring pages.
    #[serde(default)]
    pub links: Option<PaginationLinks>,
    /// Page numbers and totals.
    #[serde(default)]
    pub meta: Option<PaginationMeta>,
}

impl<T> PaginatedResponse<T> {
    /// The page number named by `links.next`, when there is one. Only the `page` query
    /// parameter is used: the client never sends a token to a URL taken from a response.
    pub fn next_page(&self) -> Option<u32> {
        let next = self.links.as_ref()?.next.as_deref()?;
        page_param(next)
    }
}

/// `links` of a Laravel page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PaginationLinks {
    /// URL of the first page.
    #[serde(default)]
    pub first: Option<String>,
    /// URL of the last page.
    #[serde(default)]
    pub last: Option<String>,
    /// URL of the previous page.
    #[serde(default)]
    pub prev: Option<String>,
    /// URL of the next page; `None` on the last page.
    #[serde(default)]
    pub next: Option<String>,
}

/// `meta` of a Laravel page. A number that is not a non-negative integer in range (negative,
/// fractional, huge, text) reads as `None` rather than failing the page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PaginationMeta {
    /// This page's number (1-based).
    #[serde(default, deserialize_with = "de::opt_uint")]
    pub current_page: Option<u32>,
    /// Index of the first item on this page.
    #[serde(default, deserialize_with = "de::opt_uint")]
    pub from: Option<u32>,
    /// Number of the last page.
    #[serde(default, deserialize_with = "de::opt_uint")]
    pub last_page: Option<u32>,
    /// The list's URL without query.
    #[serde(default)]
    pub path: Option<String>,
    /// Items per page.
    #[serde(default, deserialize_with = "de::opt_uint")]
    pub per_page: Option<u32>,
    /// Index of the last item on this page.
    #[serde(default, deserialize_with = "de::opt_uint")]
    pub to: Option<u32>,
    /// Total number of items.
    #[serde(default, deserialize_with = "de::opt_uint")]
    pub total: Option<u32>,
}

/// The `page=N` query parameter of a URL, if any. Pure.
fn page_param(url: &str) -> Option<u32> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or_default();
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("page="))
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
}

/// Iterates over the pages of a list, following `links.next` by page number: the one paging
/// shape of every list (`client.gateway_pages(token)`, `client.change_pages(token)`, ...).
/// Each item is one page, fetched when asked for; [`collect_all`](Self::collect_all) gathers
/// every item, [`starting_at`](Self::starting_at) skips to a page.
///
/// Ends after the last page: when `next` is missing or has no page number, when this page is
/// `meta.last_page` or beyond, or when `next` does not advance (names this page, an earlier or
/// an already fetched one — a server bug that would otherwise loop for ever). A server that
/// keeps naming new pages past [`max_pages`](Self::max_pages) gets
/// [`ApiError::TooManyPages`] as the last item, never an endless loop or a silently short
/// list. After an error the iterator ends.
pub struct PageIter<'a, T> {
    client: &'a RunbeamClient,
    operation: &'a Operation,
    token: &'a str,
    /// The path parameter of a list under a parent (the gateway of its changes).
    param: Option<&'a str>,
    next: Option<u32>,
    seen: HashSet<u32>,
    max_pages: u32,
    _marker: std::marker::PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for PageIter<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageIter")
            .field("operation", &self.operation.operation_id)
            .field("next", &self.next)
            .field("max_pages", &self.max_pages)
            .finish_non_exhaustive()
    }
}

impl<'a, T: DeserializeOwned> PageIter<'a, T> {
    pub(crate) fn new(
        client: &'a RunbeamClient,
        operation: &'a Operation,
        token: &'a str,
        param: Option<&'a str>,
    ) -> Self {
        PageIter {
            client,
            operation,
            token,
            param,
            next: Some(1),
            seen: HashSet::new(),
            max_pages: client.max_pages(),
            _marker: std::marker::PhantomData,
        }
    }

    /// Fetches at most `n` pages; a server still naming a next page after them gets
    /// [`ApiError::TooManyPages`]. Defaults to the client's
    /// [`max_pages`](crate::RunbeamClientBuilder::max_pages) (10,000 unless set).
    pub fn max_pages(self, n: u32) -> Self {
        Self {
            max_pages: n,
            ..self
        }
    }

    /// Starts at page `page` (1-based) instead of the first: `starting_at(3).next()` fetches
    /// page 3 alone.
    pub fn starting_at(self, page: u32) -> Self {
        Self {
            next: Some(page.max(1)),
            ..self
        }
    }

    /// Fetches every remaining page and concatenates their items.
    ///
    /// # Errors
    /// The first failing page's error; [`ApiError::TooManyPages`] when the server names more
    /// pages than the cap.
    pub fn collect_all(self) -> Result<Vec<T>, RunbeamError> {
        let mut all = Vec::new();
        for page in self {
            all.extend(page?.data);
        }
        Ok(all)
    }
}

/// The page to fetch after `page`, or `None` at the end. Pure.
pub(crate) fn following_page<T>(page: u32, response: &PaginatedResponse<T>) -> Option<u32> {
    let last = response.meta.as_ref().and_then(|m| m.last_page);
    if last.is_some_and(|last| page >= last) {
        return None;
    }
    response.next_page().filter(|next| *next > page)
}

impl<T: DeserializeOwned> Iterator for PageIter<'_, T> {
    type Item = Result<PaginatedResponse<T>, RunbeamError>;

    fn next(&mut self) -> Option<Self::Item> {
        let page = self.next.take()?;
        if self.seen.len() >= self.max_pages as usize {
            return Some(Err(ApiError::TooManyPages {
                limit: self.max_pages,
            }
            .into()));
        }
        self.seen.insert(page);
        let result = self.client.list_page::<T>(
            self.operation,
            self.token,
            self.param.as_slice(),
            Some(page),
        );
        if let Ok(response) = &result {
            self.next = following_page(page, response).filter(|n| !self.seen.contains(n));
        }
        Some(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_data_parses_without_links_or_meta() {
        let page: PaginatedResponse<u32> = serde_json::from_str(r#"{"data":[1,2]}"#).unwrap();
        assert_eq!(page.data, vec![1, 2]);
        assert_eq!(page.next_page(), None);
    }

    #[test]
    fn next_page_reads_only_the_page_number() {
        let page: PaginatedResponse<u32> = serde_json::from_str(
            r#"{"data":[],"links":{"next":"https://evil.example/api/x?per_page=5&page=3#f"},
               "meta":{"current_page":2,"links":[{"url":null,"label":"x","active":false}]}}"#,
        )
        .unwrap();
        assert_eq!(page.next_page(), Some(3));
        assert_eq!(page_param("https://x/api?page=0"), None);
        assert_eq!(page_param("https://x/api?page=abc"), None);
        assert_eq!(page_param("https://x/api"), None);
        assert_eq!(page_param("https://x/api?page=4294967296"), None);
        assert_eq!(page_param("https://x/api?page=-1"), None);
    }

    fn page_with(next: Option<u32>, last_page: Option<u32>) -> PaginatedResponse<u32> {
        PaginatedResponse {
            data: vec![],
            links: Some(PaginationLinks {
                next: next.map(|n| format!("https://x/api?page={n}")),
                ..PaginationLinks::default()
            }),
            meta: Some(PaginationMeta {
                last_page,
                ..PaginationMeta::default()
            }),
        }
    }

    #[test]
    fn the_following_page_stops_at_last_page_and_on_non_advancing_links() {
        assert_eq!(following_page(1, &page_with(Some(2), None)), Some(2));
        assert_eq!(following_page(1, &page_with(Some(2), Some(3))), Some(2));
        assert_eq!(following_page(3, &page_with(Some(4), Some(3))), None);
        assert_eq!(following_page(5, &page_with(Some(6), Some(0))), None);
        assert_eq!(following_page(2, &page_with(Some(2), None)), None);
        assert_eq!(following_page(2, &page_with(Some(1), None)), None);
        assert_eq!(following_page(u32::MAX, &page_with(Some(7), None)), None);
        assert_eq!(following_page(1, &page_with(None, Some(9))), None);
    }
}
