fn main() {
    day2_core::cli::main(tunnel_check::run)
}
