//! Imports a program written for the async upstream (runbeam-cli 0.6 and Harmony) makes from
//! the crate root: they must keep resolving through the renamed dependency.

#[allow(unused_imports)]
use runbeam_sdk::{
    validate_jwt_token, AuthorizeResponse, Change, Gateway, GatewayInfo, MachineToken,
    MeshTokenResponse, PaginatedResponse, ResolvedResource, ResourceReference, RunbeamClient,
    RunbeamError, Service, StoreConfigResponse, TeamInfo, UserInfo, UserToken,
};

fn main() {
    let user: Option<UserInfo> = None;
    println!("{}", user.is_none());
}
