//! The Runbeam API resources and the [`RunbeamClient`] methods that use them.
//!
//! One file per resource family holds its serde types beside its methods; this module only
//! gathers them. The wire layer below — requests, retries, the route table checked against
//! the published spec, path encoding, paging ([`PageIter`], [`PaginatedResponse`]) — is the
//! client's; the [`shapes`] module holds the upstream configuration types no endpoint uses.
//!
//! Response types are lenient on purpose: unknown fields are ignored, most fields are
//! optional, and ids are accepted as JSON strings or numbers (and kept as strings), because
//! the published spec and the live server disagree on several shapes.
//!
//! [`RunbeamClient`]: crate::RunbeamClient

mod authentication;
mod backend;
mod changes;
mod config_push;
mod endpoint;
mod gateway;
mod harmony;
mod login;
mod macros;
mod mesh;
mod message;
mod middleware;
mod network;
mod pipeline;
mod policy;
mod poller;
mod resolve;
mod service;
pub mod shapes;
mod transform;

pub use crate::client::paging::{
    PageIter, PaginatedResponse, PaginationLinks, PaginationMeta, DEFAULT_MAX_PAGES,
};
pub use crate::client::{BaseUrlError, ChangeRoutes, ErrorBody};
pub use crate::identity::{TeamInfo, UserInfo};
pub use crate::reference::{LookupBy, ReferenceError, ResourceReference, ResourceType};
pub use authentication::{Authentication, AuthenticationRequest};
pub use backend::{Backend, BackendRequest};
pub use changes::{AcknowledgeChangesResponse, BaseUrlResponse, Change, ChangeStatusResponse};
pub use config_push::{
    ConfigAction, ConfigType, StoreConfigResponse, StoredConfig, UnknownConfigType,
};
pub use endpoint::{ConnectionConfig, Endpoint, EndpointRequest};
pub use gateway::{Gateway, GatewayRequest};
pub use harmony::{AuthorizeResponse, AuthorizedBy, GatewayInfo};
pub use login::{LoginState, LoginSuccess, StartLoginResponse};
pub use mesh::{MeshEgressInfo, MeshInfo, MeshIngressInfo, MeshTokenClaims, MeshTokenResponse};
pub use message::MessageResponse;
pub use middleware::{Middleware, MiddlewareRequest};
pub use network::{Network, NetworkHttp, NetworkRequest};
pub use pipeline::{Pipeline, PipelineRequest};
pub use policy::{Policy, PolicyRequest};
pub use poller::{
    ChangePoller, PollError, PollReport, PollStage, RunSummary, StopReason,
    DEFAULT_MAX_CHANGES_PER_POLL, KEPT_ERRORS, MIN_INTERVAL,
};
pub use resolve::{ResolveMeta, ResolveResourceResponse, ResolvedResource};
pub use service::{Service, ServiceRequest};
pub use transform::{Transform, TransformOptions, TransformRequest};

// What the families share, from the wire layer below.
use crate::client::de;
use crate::client::operations as ops;
use macros::{crud_methods, list_methods};
