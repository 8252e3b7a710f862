fn main() {
    day2_core::cli::main(sri_check::run)
}
