//! Entry point of the `fleet` command; everything lives in the library.

fn main() -> std::process::ExitCode {
    fleet::main()
}
