//! The `optbench` binary: all the work is in the library ([`optbench_runner::cli`]).
//!
//! Exit codes: 0 success, 1 a regression or a failed run, 2 bad input, 3 internal error.

fn main() {
    std::process::exit(optbench_runner::cli::main());
}
