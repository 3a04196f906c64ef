//! Cursor pagination: list parameters, single pages, and streams of items that follow
//! `links.next` across pages.
//!
//! Frame.io's `links.next` carries only the `after` cursor, so every page request is rebuilt
//! from the original parameters (page size, include, sort, filters) plus that cursor.

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use url::Url;

use crate::client::{bare, decode, Client};
use crate::{Error, Operation};

/// The largest page Frame.io serves.
pub const MAX_PAGE_SIZE: u32 = 100;

/// Parameters of a list call; they are sent again on every page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListParams {
    /// Items per page, 1 to 100 (Frame.io's default is 50 when unset).
    pub page_size: Option<u32>,
    /// Asks Frame.io for `total_count`.
    pub include_total_count: bool,
    /// Related data to include, e.g. `media_links.thumbnail` or `creator`.
    pub include: Vec<String>,
    /// Sort order, e.g. `name_asc` or `created_at_desc`.
    pub sort: Option<String>,
    /// Other query parameters (filters such as `type=file`).
    pub filters: Vec<(String, String)>,
}

impl ListParams {
    /// Parameters with Frame.io's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the page size.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Asks for the total count.
    pub fn with_total_count(mut self) -> Self {
        self.include_total_count = true;
        self
    }

    /// Adds an `include` value.
    pub fn include(mut self, what: impl Into<String>) -> Self {
        self.include.push(what.into());
        self
    }

    /// Sets the sort order.
    pub fn sort(mut self, order: impl Into<String>) -> Self {
        self.sort = Some(order.into());
        self
    }

    /// Adds a query parameter.
    pub fn filter(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.filters.push((name.into(), value.into()));
        self
    }

    fn validate(&self, operation: Operation) -> Result<(), Error> {
        match self.page_size {
            Some(size) if size == 0 || size > MAX_PAGE_SIZE => Err(Error::InvalidRequest {
                operation,
                reason: format!("page_size must be 1 to {MAX_PAGE_SIZE}, not {size}"),
            }),
            _ => Ok(()),
        }
    }

    fn apply(&self, url: &mut Url, after: Option<&str>) {
        let mut query = url.query_pairs_mut();
        if let Some(size) = self.page_size {
            query.append_pair("page_size", &size.to_string());
        }
        if self.include_total_count {
            query.append_pair("include_total_count", "true");
        }
        if !self.include.is_empty() {
            query.append_pair("include", &self.include.join(","));
        }
        if let Some(sort) = &self.sort {
            query.append_pair("sort", sort);
        }
        for (name, value) in &self.filters {
            query.append_pair(name, value);
        }
        if let Some(cursor) = after {
            query.append_pair("after", cursor);
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// The cursor of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
    /// The total number of items, when asked for with `include_total_count`.
    pub total_count: Option<u64>,
}

#[derive(Deserialize)]
struct ListBody<T> {
    data: Vec<T>,
    #[serde(default)]
    links: Option<Links>,
    #[serde(default)]
    total_count: Option<u64>,
}

#[derive(Deserialize)]
struct Links {
    #[serde(default)]
    next: Option<String>,
}

/// The `after` cursor of a `links.next` value such as `/v4/...?after=abc`.
fn cursor_of(next: &str) -> Option<String> {
    let base = Url::parse("http://localhost/").expect("static URL parses");
    let url = base.join(next).ok()?;
    url.query_pairs()
        .find(|(name, _)| name == "after")
        .map(|(_, value)| value.into_owned())
}

impl Client {
    /// Fetches one page of a list operation.
    pub(crate) async fn list_page<T: DeserializeOwned>(
        &self,
        operation: Operation,
        mut url: Url,
        params: &ListParams,
        after: Option<&str>,
    ) -> Result<Page<T>, Error> {
        params.validate(operation)?;
        params.apply(&mut url, after);

        let response = self.execute(bare(operation, url)).await?;
        let body: ListBody<T> = decode(operation, &response)?;
        let next = body
            .links
            .and_then(|links| links.next)
            .filter(|n| !n.is_empty());
        let next_cursor = match next {
            Some(link) => Some(cursor_of(&link).ok_or_else(|| Error::Decode {
                operation,
                status: response.status.as_u16(),
                message: "links.next has no `after` cursor".to_owned(),
                request_id: response.request_id.clone(),
            })?),
            None => None,
        };
        Ok(Page {
            data: body.data,
            next_cursor,
            total_count: body.total_count,
        })
    }

    /// Streams every item of a list operation, page after page.
    pub(crate) fn paginate<T: DeserializeOwned + Send + 'static>(
        &self,
        operation: Operation,
        url: Url,
        params: ListParams,
    ) -> BoxStream<'static, Result<T, Error>> {
        enum State {
            Start,
            After(String),
            Done,
        }

        let client = self.clone();
        let pages = stream::try_unfold(State::Start, move |state| {
            let client = client.clone();
            let url = url.clone();
            let params = params.clone();
            async move {
                let after = match state {
                    State::Start => None,
                    State::After(cursor) => Some(cursor),
                    State::Done => return Ok(None),
                };
                let page: Page<T> = client
                    .list_page(operation, url, &params, after.as_deref())
                    .await?;
                let next = page.next_cursor.map_or(State::Done, State::After);
                Ok(Some((page.data, next)))
            }
        });
        pages
            .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_is_read_from_relative_and_absolute_links() {
        assert_eq!(
            cursor_of("/v4/accounts?after=abc%3D").as_deref(),
            Some("abc=")
        );
        assert_eq!(
            cursor_of("https://api.frame.io/v4/x?page_size=2&after=q").as_deref(),
            Some("q")
        );
        assert_eq!(cursor_of("/v4/accounts"), None);
    }

    #[test]
    fn page_size_is_validated() {
        let op = Operation::AccountsIndex;

        assert!(ListParams::new().page_size(100).validate(op).is_ok());
        assert!(ListParams::new().page_size(0).validate(op).is_err());
        let error = ListParams::new().page_size(101).validate(op).unwrap_err();
        assert_eq!(error.kind(), "invalid_request");
    }

    #[test]
    fn every_parameter_is_applied() {
        let params = ListParams::new()
            .page_size(7)
            .with_total_count()
            .include("creator")
            .include("media_links.thumbnail")
            .sort("name_asc")
            .filter("type", "file");
        let mut url = Url::parse("http://h/v4/x").unwrap();

        params.apply(&mut url, Some("c1"));

        assert_eq!(
            url.query(),
            Some(
                "page_size=7&include_total_count=true&include=creator%2Cmedia_links.thumbnail\
                 &sort=name_asc&type=file&after=c1"
            )
        );
    }
}
