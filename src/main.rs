//! The `ev` binary; everything lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    ev::cli::main()
}
