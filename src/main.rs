//! The `oneonone` binary: the allocator, then the command line to `cli::main`.

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    oneonone::cli::main()
}
