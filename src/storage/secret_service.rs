//! The Secret Service's lock state, asked before every keyring call on Linux and the BSDs.
//!
//! The `keyring` crate unlocks a locked collection or item by itself, and unlocking makes the
//! Secret Service show a prompt: the call then waits for a person. gnome-keyring gives up on
//! a prompter that never answers only after the D-Bus default of 25 s, and a desktop left
//! alone never answers, so every save or load of a `build.rs`, a daemon or an unattended
//! desktop would stall. The default collection's `Locked` property is read first instead: a
//! locked keyring is "no storage access" at once, unless the caller opted in to the prompt,
//! which then runs here, against a deadline.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use dbus::arg::{RefArg, Variant};
use dbus::blocking::stdintf::org_freedesktop_dbus::Properties;
use dbus::blocking::{Connection, Proxy};
use dbus::message::MatchRule;
use dbus::Path;

use super::{BackendKind, StorageError};

const BUS_NAME: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
const SERVICE: &str = "org.freedesktop.Secret.Service";
const COLLECTION: &str = "org.freedesktop.Secret.Collection";
const PROMPT: &str = "org.freedesktop.Secret.Prompt";
/// How long one D-Bus call may take: a Secret Service that owns its name but never answers
/// costs this once (the same 2 s the keyring crate's own calls allow).
const CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a reachable Secret Service was not used.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error("the default keyring collection is locked and unlock prompts are off")]
    Locked,
    #[error("the default keyring collection is locked and its unlock prompt was dismissed")]
    PromptDismissed,
    #[error(
        "the default keyring collection is locked and its unlock prompt was not answered \
         within {0:?}"
    )]
    PromptUnanswered(Duration),
    // keyring writes only to the default collection and never creates one (that would
    // prompt for a new keyring password), so without one it has nowhere to store.
    #[error("the Secret Service has no default collection")]
    NoDefaultCollection,
}

/// `Ok` when the default collection is unlocked, so keyring calls made now need no prompt.
/// A locked one is unlocked through the desktop's prompt only when `prompt` allows a wait;
/// otherwise, and when the prompt is dismissed or not answered in time,
/// [`StorageError::NoStorageAccess`].
///
/// Each D-Bus call waits at most [`CALL_TIMEOUT`]; an allowed prompt at most its wait, after
/// which it may stay on screen (see [`unlock`]).
pub(super) fn ensure_unlocked(prompt: Option<Duration>) -> Result<(), StorageError> {
    let connection = Connection::new_session().map_err(no_access)?;
    let service = connection.with_proxy(BUS_NAME, SERVICE_PATH, CALL_TIMEOUT);
    let (collection,): (Path<'static>,) = service
        .method_call(SERVICE, "ReadAlias", ("default",))
        .map_err(no_access)?;
    if &*collection == "/" {
        return Err(no_access(Refusal::NoDefaultCollection));
    }
    let locked: bool = connection
        .with_proxy(BUS_NAME, &collection, CALL_TIMEOUT)
        .get(COLLECTION, "Locked")
        .map_err(no_access)?;
    match (locked, prompt) {
        (false, _) => Ok(()),
        (true, None) => Err(no_access(Refusal::Locked)),
        (true, Some(wait)) => unlock(&connection, &service, collection, wait),
    }
}

/// Asks the Secret Service to unlock `collection` and waits until `wait` has passed for the
/// prompt's answer.
fn unlock(
    connection: &Connection,
    service: &Proxy<'_, &Connection>,
    collection: Path<'static>,
    wait: Duration,
) -> Result<(), StorageError> {
    let started = Instant::now();
    let (_, prompt): (Vec<Path<'static>>, Path<'static>) = service
        .method_call(SERVICE, "Unlock", (vec![collection],))
        .map_err(no_access)?;
    if &*prompt == "/" {
        // Unlocked without asking anyone (e.g. by a PAM module meanwhile).
        return Ok(());
    }
    // Listen before the prompt starts, so an answer cannot come first and be missed.
    let (answer, answers) = mpsc::channel();
    let rule = MatchRule::new_signal(PROMPT, "Completed").with_path(prompt.clone());
    let token = connection
        .add_match(
            rule,
            move |(was_dismissed, _): (bool, Variant<Box<dyn RefArg>>), _, _| {
                // The receiver lives until this function returns; nothing to do if not.
                let _ = answer.send(was_dismissed);
                false
            },
        )
        .map_err(no_access)?;
    let prompter = connection.with_proxy(BUS_NAME, &prompt, CALL_TIMEOUT);
    let mut outcome = prompter
        .method_call::<(), _, _, _>(PROMPT, "Prompt", ("",))
        .map_err(no_access);
    let mut dismissed = None;
    while outcome.is_ok() && dismissed.is_none() {
        let Some(left) = wait.checked_sub(started.elapsed()).filter(|d| !d.is_zero()) else {
            break;
        };
        // Returns when any message arrives (or at the deadline): check for the answer.
        if let Err(e) = connection.process(left) {
            outcome = Err(no_access(e));
        }
        dismissed = answers.try_recv().ok();
    }
    let _ = connection.remove_match(token);
    outcome?;
    match dismissed {
        Some(false) => Ok(()),
        Some(true) => Err(no_access(Refusal::PromptDismissed)),
        // The prompt is left as it is, never dismissed: gnome-keyring 42 aborts (assertion
        // in gkd-secret-unlock.c) on the next unlock after a prompt is dismissed while its
        // prompter has not answered yet. Answering it later unlocks the keyring for the next
        // call.
        None => Err(no_access(Refusal::PromptUnanswered(wait))),
    }
}

fn no_access(source: impl std::error::Error + Send + Sync + 'static) -> StorageError {
    StorageError::NoStorageAccess {
        backend: BackendKind::Keyring,
        reason: Some(Box::new(source)),
    }
}
