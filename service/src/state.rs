//! What every request handler shares.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::api::rate_limit::ClientLimit;
use crate::auth::Tokens;
use crate::store::Db;
use crate::users::{NewIds, RandomIds};
use crate::wechat::WechatClient;

#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub db: Db,
    pub tokens: Tokens,
    pub wechat: WechatClient,
    /// How long a `users_wx_code` stays claimed by its first request.
    pub guard_ttl: Duration,
    /// The per-client rate limit of login and profile (applied in `api/`).
    pub client_limit: ClientLimit,
    /// Where new users' record ids come from (random, except in the tests of an id clash).
    pub ids: Arc<dyn NewIds>,
    /// Set when a graceful shutdown begins: `/readyz` answers 503 from then on.
    pub draining: AtomicBool,
}

impl AppState {
    pub fn new(db: Db, tokens: Tokens, wechat: WechatClient, guard_ttl: Duration) -> Self {
        Self::with_client_limit(
            db,
            tokens,
            wechat,
            guard_ttl,
            ClientLimit::unlimited(),
            Arc::new(RandomIds),
        )
    }

    pub fn with_client_limit(
        db: Db,
        tokens: Tokens,
        wechat: WechatClient,
        guard_ttl: Duration,
        client_limit: ClientLimit,
        ids: Arc<dyn NewIds>,
    ) -> Self {
        Self(Arc::new(Inner {
            db,
            tokens,
            wechat,
            guard_ttl,
            client_limit,
            ids,
            draining: AtomicBool::new(false),
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
