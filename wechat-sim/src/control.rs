//! The control API under `/__sim`: everything a test (in any language) needs to drive the
//! simulator: side channels for codes, apps and users, faults, clock, journal.

use std::sync::Arc;

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, OpenApiService, Tags};

use crate::config::{AppSpec, Limits, UserSpec};
use crate::control_messaging::MessagingApi;
use crate::control_state::StateApi;
use crate::faults::{ActiveFault, Fault};
use crate::intercept::InterceptApi;
use crate::journal::JournalEntry;
use crate::sim::{LoginCode, Sim};

#[derive(Tags)]
enum Tag {
    /// Health and reset.
    System,
    /// Side channels standing in for the mini-program: `wx.login` and the phone button.
    Codes,
    /// Registered apps and user settings.
    Directory,
    /// Fault injection on the WeChat endpoints.
    Faults,
    /// The virtual clock.
    Clock,
    /// The request journal of the WeChat endpoints.
    Journal,
}

#[derive(Object)]
struct Health {
    /// Always `ok` while the server answers.
    status: String,
    /// Whether the convenience codes are disabled.
    strict: bool,
    /// The first registered app.
    default_appid: String,
    limits: Limits,
}

#[derive(Object)]
pub(crate) struct Done {
    status: String,
}

pub(crate) fn done() -> Json<Done> {
    Json(Done {
        status: "ok".to_owned(),
    })
}

#[derive(Object)]
pub(crate) struct Problem {
    error: String,
}

#[derive(ApiResponse)]
pub(crate) enum ControlError {
    /// The request names something the simulator does not know or cannot do.
    #[oai(status = 400)]
    BadRequest(Json<Problem>),
}

impl ControlError {
    pub(crate) fn new(message: impl ToString) -> Self {
        Self::BadRequest(Json(Problem {
            error: message.to_string(),
        }))
    }
}

type ControlResult<T> = Result<Json<T>, ControlError>;

#[derive(Object)]
struct LoginCodeRequest {
    /// Any user name; the same name always gives the same openid in an app.
    user: String,
    /// Defaults to the first app.
    appid: Option<String>,
}

#[derive(Object)]
struct PhoneCodeRequest {
    user: String,
    /// Defaults to the phone number set on the user.
    phone: Option<String>,
    /// Defaults to "86".
    country_code: Option<String>,
    /// Defaults to the first app.
    appid: Option<String>,
}

#[derive(Object)]
struct PhoneCode {
    /// 64 hex chars, single-use, valid 5 minutes.
    code: String,
}

#[derive(Object)]
struct Identity {
    user: String,
    appid: String,
    openid: String,
    #[oai(skip_serializing_if_is_none)]
    unionid: Option<String>,
}

#[derive(Object)]
struct FaultAdded {
    id: u64,
}

#[derive(Object)]
struct ClockAdvance {
    seconds: u64,
}

#[derive(Object)]
struct ClockState {
    /// Virtual Unix time in milliseconds.
    now_ms: u64,
    /// How far virtual time is ahead of real time, in milliseconds.
    offset_ms: u64,
}

pub struct ControlApi {
    sim: Arc<Sim>,
}

#[OpenApi]
impl ControlApi {
    /// Liveness probe.
    #[oai(
        path = "/health",
        method = "get",
        tag = "Tag::System",
        operation_id = "health"
    )]
    async fn health(&self) -> Json<Health> {
        Json(Health {
            status: "ok".to_owned(),
            strict: self.sim.config.strict,
            default_appid: self.sim.state().directory.first_appid(),
            limits: self.sim.config.limits.clone(),
        })
    }

    /// Back to the start state: configured apps and users, no codes, tokens, sessions,
    /// faults or journal, clock at real time.
    #[oai(
        path = "/reset",
        method = "post",
        tag = "Tag::System",
        operation_id = "reset"
    )]
    async fn reset(&self) -> Json<Done> {
        self.sim.reset();
        done()
    }

    /// Mint a login code, as `wx.login` would on the user's phone.
    #[oai(
        path = "/login-codes",
        method = "post",
        tag = "Tag::Codes",
        operation_id = "mintLoginCode"
    )]
    async fn login_code(&self, body: Json<LoginCodeRequest>) -> ControlResult<LoginCode> {
        self.sim
            .mint_login_code(&body.user, body.appid.as_deref())
            .map(Json)
            .map_err(ControlError::new)
    }

    /// Mint a phone code, as the getPhoneNumber button would after the user consents.
    #[oai(
        path = "/phone-codes",
        method = "post",
        tag = "Tag::Codes",
        operation_id = "mintPhoneCode"
    )]
    async fn phone_code(&self, body: Json<PhoneCodeRequest>) -> ControlResult<PhoneCode> {
        let phone = match &body.phone {
            Some(phone) => phone.clone(),
            None => self
                .sim
                .state()
                .directory
                .user(&body.user)
                .phone
                .ok_or_else(|| ControlError::new("no phone given and the user has none"))?,
        };
        self.sim
            .mint_phone_code(
                &body.user,
                &phone,
                body.country_code.as_deref(),
                body.appid.as_deref(),
            )
            .map(|code| Json(PhoneCode { code }))
            .map_err(ControlError::new)
    }

    /// Registered apps.
    #[oai(
        path = "/apps",
        method = "get",
        tag = "Tag::Directory",
        operation_id = "listApps"
    )]
    async fn apps(&self) -> Json<Vec<AppSpec>> {
        Json(self.sim.state().directory.apps().to_vec())
    }

    /// Register an app, or replace the one with the same appid. Lost on reset.
    #[oai(
        path = "/apps",
        method = "post",
        tag = "Tag::Directory",
        operation_id = "putApp"
    )]
    async fn put_app(&self, body: Json<AppSpec>) -> ControlResult<AppSpec> {
        if body.appid.is_empty() || body.secret.is_empty() {
            return Err(ControlError::new("appid and secret must not be empty"));
        }
        self.sim.state().directory.upsert_app(body.0.clone());
        Ok(body)
    }

    /// Users with settings (others exist implicitly).
    #[oai(
        path = "/users",
        method = "get",
        tag = "Tag::Directory",
        operation_id = "listUsers"
    )]
    async fn users(&self) -> Json<Vec<UserSpec>> {
        Json(self.sim.state().directory.users())
    }

    /// Set a user's phone number or risk block. Lost on reset.
    #[oai(
        path = "/users",
        method = "post",
        tag = "Tag::Directory",
        operation_id = "putUser"
    )]
    async fn put_user(&self, body: Json<UserSpec>) -> ControlResult<UserSpec> {
        if body.name.is_empty() {
            return Err(ControlError::new("name must not be empty"));
        }
        self.sim.state().directory.upsert_user(body.0.clone());
        Ok(body)
    }

    /// The openid (and unionid) a user has in an app.
    #[oai(
        path = "/users/:name/identity",
        method = "get",
        tag = "Tag::Directory",
        operation_id = "userIdentity"
    )]
    async fn identity(
        &self,
        name: Path<String>,
        appid: Query<Option<String>>,
    ) -> ControlResult<Identity> {
        let mut state = self.sim.state();
        let appid = appid.0.unwrap_or_else(|| state.directory.first_appid());
        if state.directory.app(&appid).is_none() {
            return Err(ControlError::new(format!("unknown appid {appid}")));
        }
        let (openid, unionid) = state.directory.identity(&appid, &name);
        Ok(Json(Identity {
            user: name.0,
            appid,
            openid,
            unionid,
        }))
    }

    /// Inject a fault into a WeChat endpoint.
    #[oai(
        path = "/faults",
        method = "post",
        tag = "Tag::Faults",
        operation_id = "addFault"
    )]
    async fn add_fault(&self, body: Json<Fault>) -> ControlResult<FaultAdded> {
        body.validate().map_err(ControlError::new)?;
        let id = self.sim.faults().add(body.0);
        Ok(Json(FaultAdded { id }))
    }

    /// Faults that still have hits left.
    #[oai(
        path = "/faults",
        method = "get",
        tag = "Tag::Faults",
        operation_id = "listFaults"
    )]
    async fn faults(&self) -> Json<Vec<ActiveFault>> {
        Json(self.sim.faults().list())
    }

    /// Remove every fault.
    #[oai(
        path = "/faults",
        method = "delete",
        tag = "Tag::Faults",
        operation_id = "clearFaults"
    )]
    async fn clear_faults(&self) -> Json<Done> {
        self.sim.faults().clear();
        done()
    }

    /// Current virtual time.
    #[oai(
        path = "/clock",
        method = "get",
        tag = "Tag::Clock",
        operation_id = "clock"
    )]
    async fn clock(&self) -> Json<ClockState> {
        Json(self.clock_state())
    }

    /// Move virtual time forward (codes and tokens expire by it).
    #[oai(
        path = "/clock/advance",
        method = "post",
        tag = "Tag::Clock",
        operation_id = "advanceClock"
    )]
    async fn advance(&self, body: Json<ClockAdvance>) -> Json<ClockState> {
        self.sim.clock.advance_secs(body.seconds);
        Json(self.clock_state())
    }

    /// Calls to the WeChat endpoints, oldest first, secrets masked.
    #[oai(
        path = "/requests",
        method = "get",
        tag = "Tag::Journal",
        operation_id = "listRequests"
    )]
    async fn requests(&self, endpoint: Query<Option<String>>) -> Json<Vec<JournalEntry>> {
        Json(self.sim.journal().list(endpoint.0.as_deref()))
    }

    /// Empty the journal.
    #[oai(
        path = "/requests",
        method = "delete",
        tag = "Tag::Journal",
        operation_id = "clearRequests"
    )]
    async fn clear_requests(&self) -> Json<Done> {
        self.sim.journal().clear();
        done()
    }
}

impl ControlApi {
    fn clock_state(&self) -> ClockState {
        ClockState {
            now_ms: self.sim.clock.now_ms(),
            offset_ms: self.sim.clock.offset_ms(),
        }
    }
}

type Apis = (ControlApi, InterceptApi, MessagingApi, StateApi);

pub fn service(sim: Arc<Sim>) -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            ControlApi { sim: sim.clone() },
            InterceptApi { sim: sim.clone() },
            MessagingApi { sim: sim.clone() },
            StateApi { sim },
        ),
        "wechat-sim control API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Drives the WeChat simulator: mint login and phone codes, register apps and users, \
         inject faults, move the clock, read the request journal.",
    )
    .server("/__sim")
}
