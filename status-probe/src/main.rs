fn main() {
    day2_core::cli::main(status_probe::run)
}
