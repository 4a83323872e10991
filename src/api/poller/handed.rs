//! What the poller remembers between polls: the ids it handed over (bounded) and the one
//! outcome the server has not taken yet.

use std::collections::{HashSet, VecDeque};

use crate::{RunbeamClient, RunbeamError};

/// How many handed-over ids the poller remembers. A change the server lists again after this
/// many newer ones could be handed over a second time; a real gateway never sees that many
/// changes in one process, and the memory stays a few MiB at most.
pub(super) const REMEMBERED_IDS: usize = 100_000;

/// The ids handed to the caller's closure, oldest forgotten first past [`REMEMBERED_IDS`].
#[derive(Debug, Default)]
pub(super) struct Handed {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

impl Handed {
    pub(super) fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    pub(super) fn insert(&mut self, id: &str) {
        if self.ids.insert(id.to_owned()) {
            self.order.push_back(id.to_owned());
        }
        while self.order.len() > REMEMBERED_IDS {
            if let Some(oldest) = self.order.pop_front() {
                self.ids.remove(&oldest);
            }
        }
    }

    pub(super) fn len(&self) -> usize {
        self.order.len()
    }
}

/// What the caller's closure said of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    Applied,
    /// Refused, with the closure's error text.
    Failed(String),
}

/// An outcome to report to the server.
#[derive(Debug, Clone)]
pub(super) struct Owed {
    pub(super) id: String,
    pub(super) outcome: Outcome,
}

impl Owed {
    /// Reports it (`applied` or `failed`).
    pub(super) fn deliver(&self, client: &RunbeamClient, token: &str) -> Result<(), RunbeamError> {
        match &self.outcome {
            Outcome::Applied => client.mark_change_applied(token, &self.id).map(drop),
            Outcome::Failed(error) => client
                .mark_change_failed(token, &self.id, error.as_str(), None)
                .map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_ids_are_forgotten_past_the_bound() {
        let mut handed = Handed::default();
        for i in 0..REMEMBERED_IDS + 3 {
            handed.insert(&i.to_string());
        }
        handed.insert("5"); // already known: no second entry
        assert_eq!(handed.len(), REMEMBERED_IDS);
        assert!(!handed.contains("0") && !handed.contains("2"));
        assert!(handed.contains("3") && handed.contains(&(REMEMBERED_IDS + 2).to_string()));
    }
}
