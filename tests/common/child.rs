//! Tests that need a process-wide setting (proxy variables, `SSL_CERT_FILE`) run their checks
//! in a child: the same test binary, running one `#[ignore]`d test by exact name.

use std::process::Command;

/// Runs the ignored test `name` of this binary with `env` added to the environment (and
/// `remove` taken out); true when its checks passed.
pub fn passes(name: &str, env: &[(&str, String)], remove: &[&str]) -> bool {
    let mut child = Command::new(std::env::current_exe().expect("test binary path"));
    child
        .args(["--ignored", "--exact", "--test-threads=1", name])
        .envs(env.iter().map(|(k, v)| (k, v)));
    for name in remove {
        child.env_remove(name);
    }
    child.status().expect("start the child test").success()
}

/// [`passes`] with `proxy` as the environment's proxy (and no `NO_PROXY`).
pub fn passes_behind_proxy(name: &str, proxy: &str, env: &[(&str, String)]) -> bool {
    let mut all = vec![
        ("HTTPS_PROXY", proxy.to_owned()),
        ("ALL_PROXY", proxy.to_owned()),
    ];
    all.extend(env.iter().cloned());
    passes(name, &all, &["NO_PROXY", "no_proxy"])
}
