//! `regc serve`: the reporting portal, driven by the compiled library
//! only (no code per regime). See docs/serve.md.
//!
//! The stack: axum on tokio (HTTP/1.1), one database connection behind a
//! mutex used from tokio's blocking pool, minijinja pages with HTML
//! autoescaping. Modules, one concern each:
//!
//! | module | concern |
//! |---|---|
//! | [`store`] | the database: schemas applied at start, users, sessions, queries for both engines |
//! | [`auth`] | passwords (argon2id), tokens, cookies, the login rate limiter |
//! | [`access`] | who sees and changes what, from the flow and the closure table |
//! | [`pages`] | the templates |
//! | [`forms`] | the generated form pages served for a unit and period, prefilled |
//! | [`reports`] | receiving submissions, listing reports, one report's revisions and values |
//! | [`workflow`] | approving and returning, the decisions' history, late and missing reporters |
//! | [`seeing`] | roll-ups for a unit and period, CSV |
//! | [`routes`] | the HTTP endpoints |

pub mod access;
pub mod auth;
pub mod forms;
pub mod pages;
pub mod reports;
pub mod routes;
pub mod seeing;
pub mod store;
pub mod workflow;

use crate::db::Target;
use crate::ir::Library;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    pub db: Target,
    pub listen: String,
    /// How long a session lives after login.
    pub session: Duration,
    /// Failed logins allowed per user name and per client address within
    /// `login_window`.
    pub login_failures: usize,
    pub login_window: Duration,
    /// Send cookies with `Secure` (browsers keep such cookies over plain
    /// HTTP on localhost only).
    pub secure_cookies: bool,
}

impl Config {
    pub fn new(db: Target, listen: String) -> Config {
        Config {
            db,
            listen,
            session: Duration::from_secs(8 * 3600),
            login_failures: 5,
            login_window: Duration::from_secs(15 * 60),
            secure_cookies: true,
        }
    }
}

/// What every request shares.
pub struct App {
    pub lib: Library,
    pub store: store::Store,
    pub pages: minijinja::Environment<'static>,
    pub limiter: auth::Limiter,
    pub config: Config,
}

/// Opens the database (applying the schemas) and serves until interrupted
/// (Ctrl-C or SIGTERM). `listening` is told the address bound.
pub fn run(lib: Library, config: Config, listening: impl FnOnce(SocketAddr)) -> Result<(), String> {
    let store = store::Store::open(&config.db, &lib)?;
    let app = Arc::new(App {
        lib,
        store,
        pages: pages::environment()?,
        limiter: auth::Limiter::new(config.login_failures, config.login_window),
        config: config.clone(),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the server's runtime: {e}"))?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        listening(addr);
        axum::serve(
            listener,
            routes::router(app).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(|e| format!("the server stopped: {e}"))
    })
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// `regc serve --create-user`: adds a user of `unit` with `role`.
pub fn create_user(
    lib: Library,
    db: &Target,
    name: &str,
    unit: &str,
    role: &str,
    password: &str,
) -> Result<(), String> {
    if name.trim().is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
        return Err("a user name is 1 to 100 characters, without control characters".into());
    }
    if !auth::ROLES.contains(&role) {
        return Err(format!(
            "unknown role `{role}`; the roles are {}",
            auth::ROLES.join(", ")
        ));
    }
    if access::unit_of(&lib, unit).is_none() {
        return Err(format!("there is no org unit `{unit}` in the library"));
    }
    if password.chars().count() < 8 {
        return Err("a password has at least 8 characters".into());
    }
    let store = store::Store::open(db, &lib)?;
    store.create_user(&store::User {
        name: name.to_string(),
        unit: unit.to_string(),
        role: role.to_string(),
        password_hash: auth::hash_password(password)?,
    })
}
