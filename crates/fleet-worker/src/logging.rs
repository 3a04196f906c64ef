//! The process-wide tracing subscriber: human-readable text by default, JSON lines for log
//! collectors. Logs go to standard error so that commands can print data on standard output.

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogSettings};

/// Installs the subscriber. `RUST_LOG`, when set, overrides the configured filter.
/// Does nothing when a subscriber is installed already (tests call it more than once).
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);

    let installed = match settings.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    drop(installed);
}
