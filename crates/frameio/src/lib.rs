//! A client of the Frame.io V4 API for server-to-server work.
//!
//! One [`Client`] serves one Adobe IMS service account: it caches the account's access token
//! (single-flight refresh, one retry after a 401, bounded IMS calls on failure), sends typed
//! requests labelled by [`Operation`], follows cursor pagination as a `Stream`, reports the
//! `x-ratelimit-*` headers of every response to an observer, streams local uploads from disk
//! with bounded memory, and classifies every failure as transient or permanent.
//!
//! ```no_run
//! # async fn demo() -> Result<(), frameio::Error> {
//! use futures::TryStreamExt;
//! use frameio::{Client, ClientConfig, Credentials, ListParams};
//!
//! let client = Client::new(ClientConfig::default(), Credentials::new("id", "secret"))?;
//! let me = client.me().await?;
//! let accounts: Vec<_> = client.accounts(ListParams::new()).try_collect().await?;
//! println!("{} reaches {} accounts", me.email, accounts.len());
//! # Ok(())
//! # }
//! ```

mod api;
pub mod check;
mod client;
mod config;
mod error;
pub mod models;
mod operation;
mod pagination;
mod rate_limit;
mod token;

pub use api::upload::{plan_parts, PartRange, UploadedFile};
pub use api::MAX_BULK_IDS;
pub use client::{http_client, Client};
pub use config::{ClientConfig, Credentials, DEFAULT_SCOPE};
pub use error::{status_class, ApiError, Error, ErrorClass, ImsError};
pub use operation::{Method, Operation, PublishedLimit};
pub use pagination::{ListParams, Page, MAX_PAGE_SIZE};
pub use rate_limit::{RateLimit, RateLimitObserver};
pub use token::{AccessToken, TokenCache, TokenStats};
