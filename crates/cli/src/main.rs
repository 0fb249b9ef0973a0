//! The `optbench` binary: all the work is in the library ([`optbench::main`]); exit codes are
//! in [`optbench::exit`].

fn main() {
    std::process::exit(optbench::main());
}
