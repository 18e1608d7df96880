//! What every request handler shares: the users domain and the HTTP layer's own state.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::rate_limit::ClientLimit;
use crate::users::Users;

#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    users: Users,
    /// The per-client rate limit of login and profile.
    client_limit: ClientLimit,
    /// Set when a graceful shutdown begins: `/readyz` answers 503 from then on.
    draining: AtomicBool,
}

impl AppState {
    pub fn new(users: Users) -> Self {
        Self::with_client_limit(users, ClientLimit::unlimited())
    }

    pub fn with_client_limit(users: Users, client_limit: ClientLimit) -> Self {
        Self(Arc::new(Shared {
            users,
            client_limit,
            draining: AtomicBool::new(false),
        }))
    }

    pub fn users(&self) -> &Users {
        &self.0.users
    }

    pub fn client_limit(&self) -> &ClientLimit {
        &self.0.client_limit
    }

    pub fn start_draining(&self) {
        self.0.draining.store(true, Ordering::Release);
    }

    pub fn is_draining(&self) -> bool {
        self.0.draining.load(Ordering::Acquire)
    }
}
