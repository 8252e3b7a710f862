fn main() {
    day2_core::cli::main(docker_doctor::run)
}
