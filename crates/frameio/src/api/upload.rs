//! Local and remote uploads.
//!
//! A local upload first creates the file, which answers with one pre-signed URL per part;
//! then each part of `ceil(file_size / urls)` bytes is streamed from disk to its URL with the
//! returned `media_type` as `Content-Type` and `x-amz-acl: private`. A few parts travel at
//! once, each read in small buffers, so memory stays bounded whatever the file size. No
//! completion call exists: Frame.io assembles the parts, and
//! [`Client::file_upload_status`] tells when it has.

use std::io::SeekFrom;
use std::path::Path;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt, TryStreamExt};
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;
use tracing::{debug, info, warn};

use crate::client::request;
use crate::error::{ApiError, ErrorClass};
use crate::models::{File, FileWithUploadUrls, LocalUploadParams, RemoteUploadParams, UploadUrl};
use crate::{Client, Error, Operation};

/// Content type used when Frame.io assigns none.
const FALLBACK_MEDIA_TYPE: &str = "application/octet-stream";

/// One byte range of a local upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartRange {
    /// Position of the part in the URL list.
    pub index: usize,
    /// First byte.
    pub offset: u64,
    /// Bytes in the part.
    pub len: u64,
}

/// Splits `file_size` bytes over `parts` URLs as Frame.io expects: every part
/// `ceil(file_size / parts)` bytes, the last one what remains.
pub fn plan_parts(file_size: u64, parts: usize) -> Vec<PartRange> {
    if parts == 0 {
        return Vec::new();
    }
    let chunk = file_size.div_ceil(parts as u64);
    (0..parts)
        .map(|index| {
            let offset = (chunk * index as u64).min(file_size);
            let len = chunk.min(file_size - offset);
            PartRange { index, offset, len }
        })
        .collect()
}

/// What a finished local upload sent.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadedFile {
    /// The file as created (its status is `created` until Frame.io assembles the parts).
    pub file: File,
    /// Parts sent.
    pub parts: usize,
    /// Bytes sent.
    pub bytes: u64,
    /// Time spent sending the parts.
    pub elapsed: Duration,
}

impl Client {
    /// `files.create_local_upload`: creates a file of `file_size` bytes and returns the URLs
    /// its parts must be sent to.
    pub async fn create_local_upload(
        &self,
        account_id: &str,
        folder_id: &str,
        name: &str,
        file_size: u64,
    ) -> Result<FileWithUploadUrls, Error> {
        let op = Operation::FilesCreateLocalUpload;
        let url = self.url(&[
            "accounts",
            account_id,
            "folders",
            folder_id,
            "files",
            "local_upload",
        ]);
        let body = LocalUploadParams { name, file_size };
        self.call(request(op, url, Some(&body))?).await
    }

    /// `files.create_remote_upload`: asks Frame.io to fetch the file from `source_url`.
    pub async fn create_remote_upload(
        &self,
        account_id: &str,
        folder_id: &str,
        name: &str,
        source_url: &str,
    ) -> Result<File, Error> {
        let op = Operation::FilesCreateRemoteUpload;
        let url = self.url(&[
            "accounts",
            account_id,
            "folders",
            folder_id,
            "files",
            "remote_upload",
        ]);
        let body = RemoteUploadParams { name, source_url };
        self.call(request(op, url, Some(&body))?).await
    }

    /// Uploads a local file into a folder: creates it, then streams its parts. `name`
    /// defaults to the file's name on disk.
    pub async fn upload_local_file(
        &self,
        account_id: &str,
        folder_id: &str,
        path: &Path,
        name: Option<&str>,
    ) -> Result<UploadedFile, Error> {
        let op = Operation::FilesCreateLocalUpload;
        let file_size = tokio::fs::metadata(path)
            .await
            .map_err(|source| io_error(op, "reading the size of the file", source))?
            .len();
        let name = match name {
            Some(name) => name.to_owned(),
            None => file_name(op, path)?,
        };

        let created = self
            .create_local_upload(account_id, folder_id, &name, file_size)
            .await?;
        info!(file_id = %created.file.id, file_size, parts = created.upload_urls.len(),
            "local upload created");

        let started = Instant::now();
        self.upload_parts(path, &created).await?;
        let elapsed = started.elapsed();
        info!(file_id = %created.file.id, file_size, elapsed_ms = elapsed.as_millis() as u64,
            "local upload sent");
        Ok(UploadedFile {
            parts: created.upload_urls.len(),
            file: created.file,
            bytes: file_size,
            elapsed,
        })
    }

    /// Streams the parts of `path` to the URLs of a created local upload.
    pub async fn upload_parts(
        &self,
        path: &Path,
        created: &FileWithUploadUrls,
    ) -> Result<(), Error> {
        let file_size = created.file.file_size.unwrap_or_default();
        let media_type = created
            .file
            .media_type
            .as_deref()
            .unwrap_or(FALLBACK_MEDIA_TYPE);
        let ranges = plan_parts(file_size, created.upload_urls.len());
        check_plan(&ranges, &created.upload_urls)?;

        let concurrency = self.config().upload_concurrency.max(1);
        stream::iter(ranges.into_iter().zip(&created.upload_urls))
            .map(|(range, target)| self.put_part_with_retries(path, target, media_type, range))
            .buffer_unordered(concurrency)
            .try_collect::<()>()
            .await
    }

    async fn put_part_with_retries(
        &self,
        path: &Path,
        target: &UploadUrl,
        media_type: &str,
        range: PartRange,
    ) -> Result<(), Error> {
        let retries = self.config().upload_part_retries;
        let base = Duration::from_millis(self.config().upload_backoff_base_ms);
        let mut attempt = 0;
        loop {
            let error = match self.put_part(path, target, media_type, range).await {
                Ok(()) => return Ok(()),
                Err(error) => error,
            };
            if error.class() == ErrorClass::Permanent || attempt >= retries {
                return Err(error);
            }

            let delay = base.saturating_mul(1 << attempt.min(16));
            warn!(part = range.index, attempt, delay_ms = delay.as_millis() as u64,
                error = %error, "upload part failed, retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn put_part(
        &self,
        path: &Path,
        target: &UploadUrl,
        media_type: &str,
        range: PartRange,
    ) -> Result<(), Error> {
        let op = Operation::UploadPart;
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(|source| io_error(op, "opening the file", source))?;
        file.seek(SeekFrom::Start(range.offset))
            .await
            .map_err(|source| io_error(op, "seeking in the file", source))?;
        let buffer = self.config().upload_read_buffer_bytes.max(4096);
        let body =
            reqwest::Body::wrap_stream(ReaderStream::with_capacity(file.take(range.len), buffer));

        let started = Instant::now();
        let response = self
            .http()
            .put(&target.url)
            .header(CONTENT_TYPE, media_type)
            .header("x-amz-acl", "private")
            .header(CONTENT_LENGTH, range.len)
            .timeout(self.config().upload_part_timeout())
            .body(body)
            .send()
            .await
            .map_err(|e| Error::from_reqwest(op, e))?;

        let status = response.status();
        debug!(
            part = range.index,
            bytes = range.len,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "upload part sent"
        );
        if status.is_success() {
            return Ok(());
        }
        Err(part_error(response).await)
    }
}

/// The error of a refused part. Storage answers in XML; only its `<Code>` is kept, since
/// other elements can echo parts of the signed request.
async fn part_error(response: reqwest::Response) -> Error {
    let status = response.status().as_u16();
    let request_id = ["x-amz-request-id", "x-request-id"]
        .iter()
        .find_map(|name| {
            response
                .headers()
                .get(*name)?
                .to_str()
                .ok()
                .map(str::to_owned)
        });
    let retry_after = crate::rate_limit::retry_after(response.headers());
    let body = response.text().await.unwrap_or_default();
    let detail = xml_code(&body).map(str::to_owned);
    Error::Api(Box::new(ApiError {
        operation: Operation::UploadPart,
        status,
        title: None,
        detail,
        pointer: None,
        request_id,
        rate_limit: None,
        retry_after,
    }))
}

fn xml_code(body: &str) -> Option<&str> {
    let start = body.find("<Code>")? + "<Code>".len();
    let end = body[start..].find("</Code>")? + start;
    Some(&body[start..end])
}

/// Refuses a plan whose parts do not add up to what Frame.io announced.
fn check_plan(ranges: &[PartRange], urls: &[UploadUrl]) -> Result<(), Error> {
    let op = Operation::UploadPart;
    if urls.is_empty() {
        return Err(Error::Decode {
            operation: Operation::FilesCreateLocalUpload,
            status: 201,
            message: "the local upload has no upload URLs".to_owned(),
            request_id: None,
        });
    }
    for (range, url) in ranges.iter().zip(urls) {
        if url.size != range.len {
            // Frame.io's sizes are informative; the ceil split is what its storage expects.
            debug!(operation = %op, part = range.index, announced = url.size, sent = range.len,
                "part size differs from the announced size");
        }
    }
    Ok(())
}

fn file_name(operation: Operation, path: &Path) -> Result<String, Error> {
    path.file_name()
        .and_then(|name| name.to_str())
        .map(str::to_owned)
        .ok_or_else(|| Error::InvalidRequest {
            operation,
            reason: "the path has no usable file name".to_owned(),
        })
}

fn io_error(operation: Operation, context: &str, source: std::io::Error) -> Error {
    Error::Io {
        operation,
        context: context.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_follow_the_ceil_split() {
        let parts = plan_parts(50_645_990, 3);

        let sizes: Vec<u64> = parts.iter().map(|p| p.len).collect();
        assert_eq!(sizes, vec![16_881_997, 16_881_997, 16_881_996]);
        assert_eq!(parts[2].offset, 2 * 16_881_997);
    }

    #[test]
    fn parts_cover_the_file_exactly() {
        for (size, count) in [(0, 1), (1, 1), (10, 4), (4, 3), (1_000_003, 7)] {
            let parts = plan_parts(size, count);

            assert_eq!(parts.len(), count);
            assert_eq!(
                parts.iter().map(|p| p.len).sum::<u64>(),
                size,
                "{size}/{count}"
            );
            for pair in parts.windows(2) {
                assert_eq!(pair[0].offset + pair[0].len, pair[1].offset);
            }
        }
    }

    #[test]
    fn storage_error_code_is_extracted() {
        let body = "<Error><Code>AccessDenied</Code><Message>x</Message></Error>";

        assert_eq!(xml_code(body), Some("AccessDenied"));
        assert_eq!(xml_code("nope"), None);
    }
}
