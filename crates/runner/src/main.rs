fn main() {
    eprintln!("optbench: the runner is not built yet; see README.md");
    std::process::exit(3);
}
