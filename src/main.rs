// A compiler allocates many small strings and trees: mimalloc took a
// build of the 1,000-regime synthetic library from ≈ 10 s to ≈ 6-7.5 s
// and of the library from ≈ 240 to ≈ 140 ms (scripts/bench-build.sh).
// It is built without transparent huge pages (Cargo.toml: `no_thp`): 2 MB
// pages, zeroed whole on first touch, cost a tenth of a build and doubled
// the peak memory of `regc validate` (README, Performance).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(regc::cli::main());
}
