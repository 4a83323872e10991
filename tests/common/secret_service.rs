//! Controls the Secret Service of a scratch D-Bus session (gnome-keyring under
//! `dbus-run-session`, as `.ci/run` starts it): find, kill, lock and restart the daemon.
//! Only for tests that own the session; never point them at a desktop session.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The password `.ci/run` unlocks the fresh login keyring with.
const PASSWORD: &str = "ci-pass";
/// The Secret Service's bus name.
pub const BUS_NAME: &str = "org.freedesktop.secrets";
const COLLECTION: &str = "/org/freedesktop/secrets/collection/login";

/// `gdbus call` on the session bus; stdout on success.
fn gdbus(dest: &str, path: &str, method: &str, args: &[&str]) -> Option<String> {
    let out = Command::new("gdbus")
        .args(["call", "--session", "--timeout", "10", "--dest", dest])
        .args(["--object-path", path, "--method", method])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The pid of the process that owns the Secret Service name, when one does (asking does
/// not start the daemon).
pub fn daemon_pid() -> Option<u32> {
    let out = gdbus(
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus.GetConnectionUnixProcessID",
        &[BUS_NAME],
    )?;
    // "(uint32 1234,)"
    out.trim()
        .trim_start_matches("(uint32 ")
        .trim_end_matches(",)")
        .parse()
        .ok()
}

/// Whether the login collection is locked; `None` when the service does not answer.
pub fn is_locked() -> Option<bool> {
    let out = gdbus(
        BUS_NAME,
        COLLECTION,
        "org.freedesktop.DBus.Properties.Get",
        &["org.freedesktop.Secret.Collection", "Locked"],
    )?;
    Some(out.contains("true"))
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Kills the daemon (by the pid the bus reports for it) and waits until it is gone. The
/// next Secret Service call D-Bus-activates a new one, with the login collection locked.
pub fn kill_daemon() {
    let pid = daemon_pid().expect("a Secret Service daemon owns the bus name");
    let status = Command::new("kill").arg(pid.to_string()).status().unwrap();
    assert!(status.success(), "kill {pid}");
    wait_until("the daemon is gone", || daemon_pid() != Some(pid));
}

/// Locks the login collection (Secret Service `Lock`, which needs no prompt).
pub fn lock_collection() {
    gdbus(
        BUS_NAME,
        "/org/freedesktop/secrets",
        "org.freedesktop.Secret.Service.Lock",
        &[&format!("['{COLLECTION}']")],
    )
    .expect("Lock answered");
    assert_eq!(is_locked(), Some(true));
}

/// Replaces any running daemon with one that unlocks the login collection with the CI
/// password (unlocking through the service itself would need a prompt), and waits until it
/// answers unlocked. Until the new daemon owns the bus name only `daemon_pid` is asked:
/// any call to the service itself would D-Bus-activate a competing, locked daemon.
pub fn start_unlocked() {
    if daemon_pid().is_some() {
        kill_daemon();
    }
    let mut daemon = Command::new("gnome-keyring-daemon")
        .args(["--unlock", "--components=secrets"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("gnome-keyring-daemon runs");
    daemon
        .stdin
        .take()
        .unwrap()
        .write_all(PASSWORD.as_bytes())
        .unwrap();
    // The command forks the daemon and exits.
    assert!(daemon.wait().unwrap().success());
    wait_until("the new daemon owns the bus name", || {
        daemon_pid().is_some()
    });
    wait_until("the keyring answers unlocked", || {
        is_locked() == Some(false)
    });
    // Unlocked is not yet ready: the login collection can still be loading for a moment.
    wait_until("a secret round trip works", stores_secrets);
}

/// Writes, reads back and deletes a canary entry.
fn stores_secrets() -> bool {
    use runbeam_sdk_blocking::TokenStorage;
    let Ok(canary) = runbeam_sdk_blocking::storage::KeyringStorage::new("test-canary") else {
        return false;
    };
    let slot = format!("ready_{}", std::process::id());
    let ok = canary.write(&slot, b"ready").is_ok()
        && canary
            .read(&slot)
            .is_ok_and(|back| back.is_some_and(|b| b.expose() == b"ready"));
    ok && canary.delete(&slot).is_ok()
}

/// True when the tools these helpers use are installed and a session bus is set (the
/// daemon itself may still be starting: [`start_unlocked`] waits for it).
pub fn controllable() -> bool {
    let tools = ["gdbus", "gnome-keyring-daemon"].iter().all(|tool| {
        Command::new(tool)
            .arg("--help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    });
    tools && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
}

/// The bus name gnome-keyring asks to show its unlock prompt.
pub const PROMPTER: &str = "org.gnome.keyring.SystemPrompter";

/// A peer on the session bus that owns a well-known name and never answers a call made to
/// it: a hung prompter (a desktop left alone) or a hung Secret Service, as its callers see
/// it. The name is released when this is dropped.
#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
pub struct Silent {
    connection: dbus::blocking::Connection,
    name: &'static str,
}

#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
impl Silent {
    /// Takes `name`; fails the test when another process owns it.
    pub fn own(name: &'static str) -> Self {
        use dbus::blocking::stdintf::org_freedesktop_dbus::RequestNameReply;
        let connection = dbus::blocking::Connection::new_session().expect("a session bus");
        // Not queued, not replaceable: either this peer owns the name or the test stops.
        let reply = connection
            .request_name(name, false, false, true)
            .expect("RequestName answered");
        assert_eq!(
            reply,
            RequestNameReply::PrimaryOwner,
            "{name} is owned by another process"
        );
        Self { connection, name }
    }

    /// The members of the method calls received so far, which stay unanswered.
    pub fn calls(&self) -> Vec<String> {
        let channel = self.connection.channel();
        let _ = channel.read_write(Some(Duration::ZERO));
        let mut calls = Vec::new();
        while let Some(message) = channel.pop_message() {
            if message.msg_type() == dbus::MessageType::MethodCall {
                calls.push(message.member().map(|m| m.to_string()).unwrap_or_default());
            }
        }
        calls
    }
}

#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
impl Drop for Silent {
    fn drop(&mut self) {
        // Released synchronously, so the next `daemon_pid` never reports this process.
        let _ = self.connection.release_name(self.name);
    }
}
