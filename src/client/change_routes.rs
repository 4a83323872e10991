//! [`ChangeRoutes`]: which of the two route sets change management is sent to.

use super::operations::{self as ops, Operation};

/// Which routes change management uses.
///
/// The live API (what the Harmony gateway and the Runbeam CLI call) serves changes under
/// `/api/harmony/...`; the published spec v1-2 put them under `/api/gateway/...`, which
/// older servers still answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChangeRoutes {
    /// `/api/harmony/changes`, `/api/harmony/change/{id}` (singular), ...; `get_base_url`
    /// falls back to `<origin>/harmony/base-url` on 404. The default.
    #[default]
    Harmony,
    /// The spec v1-2 routes: `/api/gateway/changes`, `/api/gateway/changes/{id}`, ...,
    /// `/api/gateway/base-url`.
    SpecV1_2,
}

/// The operations of one route set.
pub(crate) struct ChangeOps {
    pub(crate) base_url: &'static Operation,
    pub(crate) index: &'static Operation,
    pub(crate) show: &'static Operation,
    pub(crate) acknowledge: &'static Operation,
    pub(crate) applied: &'static Operation,
    pub(crate) failed: &'static Operation,
}

impl ChangeRoutes {
    pub(crate) fn ops(self) -> ChangeOps {
        match self {
            ChangeRoutes::Harmony => ChangeOps {
                base_url: &ops::LIVE_BASE_URL,
                index: &ops::LIVE_CHANGES_INDEX,
                show: &ops::LIVE_CHANGE_SHOW,
                acknowledge: &ops::LIVE_CHANGES_ACKNOWLEDGE,
                applied: &ops::LIVE_CHANGE_APPLIED,
                failed: &ops::LIVE_CHANGE_FAILED,
            },
            ChangeRoutes::SpecV1_2 => ChangeOps {
                base_url: &ops::GATEWAY_BASE_URL,
                index: &ops::CHANGES_INDEX,
                show: &ops::CHANGES_SHOW,
                acknowledge: &ops::CHANGES_ACKNOWLEDGE,
                applied: &ops::CHANGES_APPLIED,
                failed: &ops::CHANGES_FAILED,
            },
        }
    }
}
