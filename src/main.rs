fn main() -> std::process::ExitCode {
    oneonone::cli::main()
}
