//! Uploads: how a local upload is split into parts, the pre-signed-style part URLs served
//! under `/_sim/upload/{file_id}/{part}`, and remote uploads fetched from a source URL.
//!
//! Part bodies are streamed and counted, never kept: only their size and a running FNV-1a
//! digest are recorded, so a multi-gigabyte upload costs little memory.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures::StreamExt;

use crate::server::{connection_kill, inject_faults, lock, Shared};
use crate::store::Upload;

/// Operation name of part uploads in statistics and fault filters.
pub const UPLOAD_PART_OPERATION: &str = "upload.part";

/// Sizes of the parts of a `file_size`-byte upload: `ceil(file_size / part_size)` parts
/// (at least one), each `ceil(file_size / count)` bytes but the last, which takes the rest.
pub fn part_sizes(file_size: u64, part_size: u64) -> Vec<u64> {
    let count = file_size.div_ceil(part_size.max(1)).max(1);
    let each = file_size.div_ceil(count);
    let mut sizes = Vec::new();
    let mut left = file_size;
    for _ in 0..count {
        let size = each.min(left);
        sizes.push(size);
        left -= size;
    }
    sizes
}

/// The media type Frame.io would assign to a file of this name.
pub fn media_type_for(name: &str) -> &'static str {
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "mxf" => "application/mxf",
        "webm" => "video/webm",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "tif" | "tiff" => "image/tiff",
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

/// The upload state of a new local upload of `file_size` bytes.
pub(crate) fn local_upload(file_size: u64, part_size: u64) -> Upload {
    let part_sizes = part_sizes(file_size, part_size);
    let n = part_sizes.len();
    Upload {
        part_sizes,
        received: vec![false; n],
        digests: vec![0; n],
        ..Upload::default()
    }
}

/// An S3-style XML error, as the storage behind pre-signed URLs answers.
fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

/// `PUT /_sim/upload/{file_id}/{part}`: receives one part. The `Content-Type` must equal the
/// file's media type and `x-amz-acl` must be `private`, as for Frame.io's pre-signed URLs;
/// the body must have exactly the part's size.
pub(crate) async fn put_part(
    State(shared): State<Arc<Shared>>,
    Path((file_id, part)): Path<(String, usize)>,
    request: Request,
) -> Response {
    if let Some(answer) =
        inject_faults(&shared, UPLOAD_PART_OPERATION, connection_kill(&request)).await
    {
        lock(&shared.recorder).request(UPLOAD_PART_OPERATION, answer.status().as_u16());
        return answer;
    }
    let response = receive_part(&shared, &file_id, part, request).await;
    lock(&shared.recorder).request(UPLOAD_PART_OPERATION, response.status().as_u16());
    response
}

async fn receive_part(shared: &Shared, file_id: &str, part: usize, request: Request) -> Response {
    let expected = {
        let store = lock(&shared.store);
        let Some(file) = store.assets.get(file_id) else {
            return s3_error(StatusCode::NOT_FOUND, "NoSuchUpload", "unknown upload");
        };
        let Some(size) = file.upload.part_sizes.get(part).copied() else {
            return s3_error(StatusCode::NOT_FOUND, "NoSuchUpload", "unknown part");
        };
        (size, file.media_type.clone().unwrap_or_default())
    };
    let (size, media_type) = expected;

    let headers = request.headers();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type != media_type {
        let message = format!("Content-Type must be {media_type}, not {content_type:?}");
        return s3_error(StatusCode::FORBIDDEN, "SignatureDoesNotMatch", &message);
    }
    let acl = headers.get("x-amz-acl").and_then(|v| v.to_str().ok());
    if acl != Some("private") {
        let message = "x-amz-acl must be private";
        return s3_error(StatusCode::FORBIDDEN, "SignatureDoesNotMatch", message);
    }
    let declared_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared_length.is_some_and(|n| n != size) {
        let message = format!("the part must have {size} bytes");
        return s3_error(StatusCode::BAD_REQUEST, "InvalidPartSize", &message);
    }

    let mut stream = request.into_body().into_data_stream();
    let mut received = 0u64;
    let mut digest = Fnv1a::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => {
                received += bytes.len() as u64;
                if received > size {
                    let message = format!("the part must have {size} bytes");
                    return s3_error(StatusCode::BAD_REQUEST, "InvalidPartSize", &message);
                }
                digest.update(&bytes);
            }
            Err(error) => {
                tracing::debug!(file_id, part, %error, "upload part body failed");
                let message = "the body ended early";
                return s3_error(StatusCode::BAD_REQUEST, "IncompleteBody", message);
            }
        }
    }
    if received != size {
        let message = format!("the part must have {size} bytes, got {received}");
        return s3_error(StatusCode::BAD_REQUEST, "IncompleteBody", &message);
    }

    let digest = digest.finish();
    {
        let mut store = lock(&shared.store);
        let Some(file) = store.assets.get_mut(file_id) else {
            return s3_error(
                StatusCode::NOT_FOUND,
                "NoSuchUpload",
                "the file was deleted",
            );
        };
        let now = Utc::now();
        let upload = &mut file.upload;
        upload.uploaded_at.get_or_insert(now);
        if let Some(slot) = upload.received.get_mut(part) {
            *slot = true;
        }
        if let Some(slot) = upload.digests.get_mut(part) {
            *slot = digest;
        }
        if !upload.complete && upload.received.iter().all(|r| *r) {
            upload.complete = true;
            upload.completed_at = Some(now);
            tracing::debug!(file_id, "local upload complete");
        }
    }
    lock(&shared.recorder).upload_part(received);

    let mut response = StatusCode::OK.into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{digest:016x}\"")) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// Fetches a remote upload's source and marks the file complete or failed.
pub(crate) async fn fetch_remote(shared: Arc<Shared>, file_id: String, source_url: String) {
    let outcome = async {
        let response = shared
            .http
            .get(&source_url)
            .send()
            .await?
            .error_for_status()?;
        let mut stream = response.bytes_stream();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            size += chunk?.len() as u64;
        }
        Ok::<u64, reqwest::Error>(size)
    }
    .await;

    let mut store = lock(&shared.store);
    let Some(file) = store.assets.get_mut(&file_id) else {
        return;
    };
    let now = Utc::now();
    match outcome {
        Ok(size) => {
            file.file_size = size;
            file.upload.uploaded_at = Some(now);
            file.upload.completed_at = Some(now);
            file.upload.complete = true;
            tracing::debug!(file_id, size, "remote upload complete");
        }
        Err(error) => {
            file.upload.failed = true;
            // The URL may carry a signature in its query; log only the error kind.
            tracing::info!(file_id, error = %error.without_url(), "remote upload failed");
        }
    }
}

/// The 64-bit FNV-1a hash, enough to tell parts apart without keeping them.
struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    fn update(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_match_frameio_example() {
        let sizes = part_sizes(50_645_990, crate::config::DEFAULT_PART_SIZE);
        assert_eq!(sizes, vec![16_881_997, 16_881_997, 16_881_996]);
    }

    #[test]
    fn parts_cover_the_file_exactly() {
        for (size, part) in [(0, 10), (1, 10), (10, 10), (11, 10), (99, 7), (1000, 1)] {
            let sizes = part_sizes(size, part);
            assert_eq!(sizes.iter().sum::<u64>(), size, "{size}/{part}");
            assert!(sizes.iter().all(|s| *s <= part), "{size}/{part}: {sizes:?}");
            assert_eq!(sizes.len() as u64, size.div_ceil(part).max(1));
        }
    }

    #[test]
    fn media_types_follow_extensions() {
        assert_eq!(media_type_for("clip.MP4"), "video/mp4");
        assert_eq!(media_type_for("noext"), "application/octet-stream");
    }
}
