//! A tiny timing harness shared by the benchmarks (run with `cargo bench`).
//!
//! Each measurement warms up, then times `ROUNDS` rounds of `iters` calls and reports the
//! median round, so one noisy round does not skew a ratio.

use std::time::{Duration, Instant};

const ROUNDS: usize = 7;

/// Median time per call of `f`, over `ROUNDS` rounds of `iters` calls after one warm-up round.
pub fn per_call(iters: u32, mut f: impl FnMut()) -> Duration {
    for _ in 0..iters {
        f();
    }
    let mut rounds: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                f();
            }
            start.elapsed() / iters
        })
        .collect();
    rounds.sort();
    rounds[ROUNDS / 2]
}

/// Prints one result line: name, time per call, calls per second, and the ratio to a baseline.
pub fn report(name: &str, per_call: Duration, baseline: Duration) {
    let ratio = baseline.as_secs_f64() / per_call.as_secs_f64();
    println!(
        "{name:<48} {:>10.2} µs/call {:>10.0} calls/s  {ratio:>5.2}× baseline throughput",
        per_call.as_secs_f64() * 1e6,
        1.0 / per_call.as_secs_f64(),
    );
}
