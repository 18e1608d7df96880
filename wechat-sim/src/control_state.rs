//! `GET/PUT /__sim/state`: export and import (see `snapshot`).

use std::sync::Arc;

use poem_openapi::payload::Json;
use poem_openapi::{OpenApi, Tags};

use crate::control::{Done, done};
use crate::sim::Sim;
use crate::snapshot::SimState;

#[derive(Tags)]
enum Tag {
    /// Export and import of the simulator's state.
    State,
}

pub struct StateApi {
    pub sim: Arc<Sim>,
}

#[OpenApi]
impl StateApi {
    /// Apps, users (with openids and session keys), content rules, templates, acceptances and
    /// delivered messages, as JSON to keep and `PUT` back later.
    #[oai(
        path = "/state",
        method = "get",
        tag = "Tag::State",
        operation_id = "exportState"
    )]
    async fn export(&self) -> Json<SimState> {
        Json(self.sim.export_state())
    }

    /// Replace the state with an export; codes and access tokens start empty.
    #[oai(
        path = "/state",
        method = "put",
        tag = "Tag::State",
        operation_id = "importState"
    )]
    async fn import(&self, body: Json<SimState>) -> Json<Done> {
        self.sim.import_state(&body);
        done()
    }
}
