fn main() -> std::process::ExitCode {
    ramstate::run()
}
