fn main() {
    std::process::exit(regc::cli::main());
}
