//! The `fleet` binary run as a child process against the Frame.io simulator:
//! `fleet accounts check` and `fleet sim`.

mod accounts;
mod helpers;
mod sim;
