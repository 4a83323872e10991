//! Tests that need a process-wide setting (proxy variables) run their checks in a child: the
//! same test binary, running one `#[ignore]`d test by exact name.

use std::process::Command;

/// Runs the ignored test `name` of this binary with `proxy` as the environment's proxy (and
/// no `NO_PROXY`), plus `env`; true when its checks passed.
pub fn passes_behind_proxy(name: &str, proxy: &str, env: &[(&str, String)]) -> bool {
    let mut child = Command::new(std::env::current_exe().expect("test binary path"));
    child
        .args(["--ignored", "--exact", "--test-threads=1", name])
        .env("HTTPS_PROXY", proxy)
        .env("ALL_PROXY", proxy)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .envs(env.iter().map(|(k, v)| (k, v)));
    child.status().expect("start the child test").success()
}
