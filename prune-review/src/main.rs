fn main() {
    day2_core::cli::main(prune_review::run)
}
