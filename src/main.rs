// A compiler allocates many small strings and trees: mimalloc took a
// build of the 1,000-regime synthetic library from ≈ 10 s to ≈ 6-7.5 s
// and of the library from ≈ 240 to ≈ 140 ms (scripts/bench-build.sh).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(regc::cli::main());
}
