fn main() {
    day2_core::cli::main(legacy_sampler::run)
}
