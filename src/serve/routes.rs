//! The HTTP endpoints. Every handler runs its work on tokio's blocking
//! pool (the database calls block); every response carries the security
//! headers; every POST checks the session's CSRF token first.
//!
//! Refusals say as little as they can: a missing or expired session is 401
//! (a page redirects to /login), a bad CSRF token 403, and a report the
//! user may not see is 404, as if it did not exist.

use super::App;
use super::auth;
use super::pages;
use super::store::Session;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::context;
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;

type Shared = State<Arc<App>>;

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/static/serve.css", get(css))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route("/api/login", post(api_login))
        .route("/api/session", get(api_session))
        .route("/api/logout", post(api_logout))
        .route("/api/r/{regime}/draft", post(api_draft))
        .route("/api/r/{regime}/submit", post(api_submit))
        .route("/api/r/{regime}/reports", get(api_reports))
        .route(
            "/api/r/{regime}/report/{form}/{unit}/{period}",
            get(api_report),
        )
        .route(
            "/api/r/{regime}/report/{form}/{unit}/{period}/approve",
            post(api_approve),
        )
        .route(
            "/api/r/{regime}/report/{form}/{unit}/{period}/return",
            post(api_return),
        )
        .route("/api/r/{regime}/expected", get(api_expected))
        .route("/api/r/{regime}/rollup", get(api_rollup))
        .route("/r/{regime}", get(regime_page))
        .route("/r/{regime}/decide", post(decide_form))
        .route("/f/{regime}/forms.js", get(forms_js))
        .route("/f/{regime}/forms.css", get(forms_css))
        .route("/f/{regime}/{form}/{unit}/{period}", get(form_page))
        .route("/static/serve-form.js", get(serve_form_js))
        .fallback(not_found)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(app)
}

async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(pages::CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}

/// Runs `f` on the blocking pool.
pub async fn blocking<F>(f: F) -> Response
where
    F: FnOnce() -> Response + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|_| internal("the request failed"))
}

// ------------------------------------------------------------ responses

/// A failure of the server itself: logged to stderr, not shown.
pub fn internal(what: &str) -> Response {
    eprintln!("regc serve: {what}");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "Lỗi máy chủ (server error)\n",
    )
        .into_response()
}

pub fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

pub fn json(status: StatusCode, body: &serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub fn redirect(to: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, to)
        .body(Body::empty())
        .unwrap_or_else(|_| internal("a redirect could not be built"))
}

/// A page saying why, with a status.
pub fn message(
    app: &App,
    status: StatusCode,
    session: Option<&Session>,
    title: &str,
    text: &str,
) -> Response {
    match pages::render(
        &app.pages,
        "message.html",
        context! { title, message => text, user => session.map(|s| user_ctx(app, s)), csrf => session.map(|s| s.csrf.clone()) },
    ) {
        Ok(body) => html(status, body),
        Err(e) => internal(&e),
    }
}

pub fn user_ctx(app: &App, s: &Session) -> minijinja::Value {
    let unit_name = super::access::unit_of(&app.lib, &s.user.unit)
        .map(|u| u.name.clone())
        .unwrap_or_default();
    context! { name => s.user.name, unit => s.user.unit, unit_name, role => s.user.role }
}

/// Why a request is refused.
#[derive(Debug)]
pub enum Refusal {
    /// No session, or an expired one.
    NotLoggedIn,
    /// A POST without the session's CSRF token.
    Csrf,
    /// Nothing the user may see (or nothing at all).
    NotFound,
    /// The user may see it but not do this.
    Forbidden,
    /// The server failed.
    Internal(String),
}

impl Refusal {
    pub fn page(self, app: &App, session: Option<&Session>) -> Response {
        match self {
            Refusal::NotLoggedIn => redirect("/login"),
            Refusal::Csrf => message(
                app,
                StatusCode::FORBIDDEN,
                session,
                "Yêu cầu bị từ chối (Refused)",
                "Phiên làm việc không hợp lệ: tải lại trang và thử lại. (The form's token is missing or wrong: reload the page.)",
            ),
            Refusal::NotFound => message(
                app,
                StatusCode::NOT_FOUND,
                session,
                "Không tìm thấy (Not found)",
                "Không có trang này. (There is no such page.)",
            ),
            Refusal::Forbidden => message(
                app,
                StatusCode::FORBIDDEN,
                session,
                "Không được phép (Forbidden)",
                "Tài khoản của bạn không được làm việc này. (Your account may not do this.)",
            ),
            Refusal::Internal(e) => internal(&e),
        }
    }

    pub fn api(self) -> Response {
        let (status, text) = match self {
            Refusal::NotLoggedIn => (StatusCode::UNAUTHORIZED, "not logged in"),
            Refusal::Csrf => (StatusCode::FORBIDDEN, "missing or wrong CSRF token"),
            Refusal::NotFound => (StatusCode::NOT_FOUND, "not found"),
            Refusal::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            Refusal::Internal(e) => return internal(&e),
        };
        json(status, &serde_json::json!({ "error": text }))
    }
}

impl From<String> for Refusal {
    fn from(e: String) -> Self {
        Refusal::Internal(e)
    }
}

// ------------------------------------------------------------ sessions

/// The request's session, if its cookie names a live one.
pub fn session(app: &App, headers: &HeaderMap) -> Result<Option<Session>, Refusal> {
    let Some(token) = cookie(headers, auth::COOKIE) else {
        return Ok(None);
    };
    Ok(app.store.session(&auth::token_hash(&token))?)
}

/// The session, required.
pub fn logged_in(app: &App, headers: &HeaderMap) -> Result<Session, Refusal> {
    session(app, headers)?.ok_or(Refusal::NotLoggedIn)
}

/// The session, required, with its CSRF token given as `given` (a form
/// field) or in the `X-CSRF-Token` header.
pub fn posted(app: &App, headers: &HeaderMap, given: Option<&str>) -> Result<Session, Refusal> {
    let s = logged_in(app, headers)?;
    let header = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    match given.or(header) {
        Some(t) if auth::same(t, &s.csrf) => Ok(s),
        _ => Err(Refusal::Csrf),
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| auth::cookie(h, name).map(str::to_string))
}

fn secure(app: &App) -> bool {
    app.config.secure_cookies
}

// ------------------------------------------------------------ handlers

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        pages::CSS,
    )
        .into_response()
}

async fn not_found(State(app): Shared, headers: HeaderMap) -> Response {
    blocking(move || {
        let s = session(&app, &headers).ok().flatten();
        Refusal::NotFound.page(&app, s.as_ref())
    })
    .await
}

async fn home(State(app): Shared, headers: HeaderMap) -> Response {
    blocking(move || {
        let s = match logged_in(&app, &headers) {
            Ok(s) => s,
            Err(r) => return r.page(&app, None),
        };
        let regimes: Vec<minijinja::Value> = app
            .lib
            .regimes
            .iter()
            .filter(|r| super::access::takes_part(&app.lib, r, &s.user))
            .map(|r| {
                context! {
                    code => r.code,
                    title => r.titles.get("vi").cloned().unwrap_or_else(|| r.code.clone()),
                    frequency => r.frequency.name(),
                    flow => r.flow.join(" → "),
                }
            })
            .collect();
        match pages::render(
            &app.pages,
            "home.html",
            context! { title => "Trang chủ", user => user_ctx(&app, &s), csrf => s.csrf, regimes },
        ) {
            Ok(body) => html(StatusCode::OK, body),
            Err(e) => internal(&e),
        }
    })
    .await
}

fn login_form(app: &App, status: StatusCode, name: &str, error: Option<&str>) -> Response {
    let token = match auth::token() {
        Ok(t) => t,
        Err(e) => return internal(&e),
    };
    let body = match pages::render(
        &app.pages,
        "login.html",
        context! { title => "Đăng nhập", login_csrf => token, name, error },
    ) {
        Ok(b) => b,
        Err(e) => return internal(&e),
    };
    let mut r = html(status, body);
    if let Ok(v) = HeaderValue::from_str(&auth::set_cookie(
        auth::LOGIN_COOKIE,
        &token,
        3600,
        secure(app),
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

async fn login_page(State(app): Shared, headers: HeaderMap) -> Response {
    blocking(move || match session(&app, &headers) {
        Ok(Some(_)) => redirect("/"),
        Ok(None) => login_form(&app, StatusCode::OK, "", None),
        Err(r) => r.page(&app, None),
    })
    .await
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

/// What a login attempt came to.
enum Login {
    Ok { token: String, csrf: String },
    Wrong,
    Limited,
}

/// Checks a name and password under the rate limiter; on success opens a
/// session.
fn attempt(app: &App, name: &str, password: &str, peer: &SocketAddr) -> Result<Login, String> {
    let by_name = format!("user:{name}");
    let by_peer = format!("peer:{}", peer.ip());
    if !app.limiter.allows(&by_name) || !app.limiter.allows(&by_peer) {
        return Ok(Login::Limited);
    }
    let user = app.store.user(name)?;
    let hash = user
        .as_ref()
        .map_or(auth::decoy_hash(), |u| u.password_hash.as_str());
    let ok = auth::verify_password(password, hash);
    let Some(user) = user.filter(|_| ok) else {
        app.limiter.failed(&by_name);
        app.limiter.failed(&by_peer);
        return Ok(Login::Wrong);
    };
    app.limiter.succeeded(&by_name);
    let (token, csrf) = (auth::token()?, auth::token()?);
    let expires = super::store::at(std::time::SystemTime::now() + app.config.session);
    app.store
        .create_session(&auth::token_hash(&token), &user.name, &csrf, &expires)?;
    Ok(Login::Ok { token, csrf })
}

fn session_cookie(app: &App, token: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&auth::set_cookie(
        auth::COOKIE,
        token,
        app.config.session.as_secs(),
        secure(app),
    ))
    .ok()
}

async fn login(
    State(app): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    blocking(move || {
        // The login form's own token (no session yet): the cookie set with
        // the form must come back with it, which another site cannot do.
        let expected = cookie(&headers, auth::LOGIN_COOKIE).unwrap_or_default();
        if expected.is_empty() || !auth::same(&expected, &form.csrf) {
            return Refusal::Csrf.page(&app, None);
        }
        match attempt(&app, &form.name, &form.password, &peer) {
            Ok(Login::Ok { token, .. }) => {
                let mut r = redirect("/");
                if let Some(v) = session_cookie(&app, &token) {
                    r.headers_mut().append(header::SET_COOKIE, v);
                }
                if let Ok(v) = HeaderValue::from_str(&auth::set_cookie(
                    auth::LOGIN_COOKIE,
                    "",
                    0,
                    secure(&app),
                )) {
                    r.headers_mut().append(header::SET_COOKIE, v);
                }
                r
            }
            Ok(Login::Wrong) => login_form(
                &app,
                StatusCode::UNAUTHORIZED,
                &form.name,
                Some("Sai tên đăng nhập hoặc mật khẩu. (Wrong user name or password.)"),
            ),
            Ok(Login::Limited) => login_form(
                &app,
                StatusCode::TOO_MANY_REQUESTS,
                &form.name,
                Some("Quá nhiều lần đăng nhập sai: hãy thử lại sau. (Too many failed logins: try again later.)"),
            ),
            Err(e) => internal(&e),
        }
    })
    .await
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(State(app): Shared, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    blocking(move || {
        let s = match posted(&app, &headers, Some(&form.csrf)) {
            Ok(s) => s,
            Err(r) => {
                let s = session(&app, &headers).ok().flatten();
                return r.page(&app, s.as_ref());
            }
        };
        if let Err(e) = app.store.delete_session(&s.token_sha256) {
            return internal(&e);
        }
        let mut r = redirect("/login");
        if let Ok(v) = HeaderValue::from_str(&auth::set_cookie(auth::COOKIE, "", 0, secure(&app))) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
        r
    })
    .await
}

#[derive(Deserialize)]
struct ApiLogin {
    name: String,
    password: String,
}

/// `POST /api/login` `{"name", "password"}`: sets the session cookie and
/// answers the CSRF token to send as `X-CSRF-Token` with every POST.
async fn api_login(
    State(app): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    axum::Json(body): axum::Json<ApiLogin>,
) -> Response {
    blocking(
        move || match attempt(&app, &body.name, &body.password, &peer) {
            Ok(Login::Ok { token, csrf }) => {
                let mut r = json(StatusCode::OK, &serde_json::json!({ "csrf": csrf }));
                if let Some(v) = session_cookie(&app, &token) {
                    r.headers_mut().append(header::SET_COOKIE, v);
                }
                r
            }
            Ok(Login::Wrong) => json(
                StatusCode::UNAUTHORIZED,
                &serde_json::json!({ "error": "wrong user name or password" }),
            ),
            Ok(Login::Limited) => json(
                StatusCode::TOO_MANY_REQUESTS,
                &serde_json::json!({ "error": "too many failed logins; try again later" }),
            ),
            Err(e) => internal(&e),
        },
    )
    .await
}

/// `GET /api/session`: who is logged in, and the CSRF token.
async fn api_session(State(app): Shared, headers: HeaderMap) -> Response {
    blocking(move || match logged_in(&app, &headers) {
        Ok(s) => json(
            StatusCode::OK,
            &serde_json::json!({
                "user": s.user.name, "unit": s.user.unit, "role": s.user.role,
                "csrf": s.csrf, "expires_at": s.expires_at,
            }),
        ),
        Err(r) => r.api(),
    })
    .await
}

async fn api_logout(State(app): Shared, headers: HeaderMap) -> Response {
    blocking(move || match posted(&app, &headers, None) {
        Ok(s) => match app.store.delete_session(&s.token_sha256) {
            Ok(()) => json(StatusCode::OK, &serde_json::json!({ "logged_out": true })),
            Err(e) => internal(&e),
        },
        Err(r) => r.api(),
    })
    .await
}

// ------------------------------------------------------------ reports

fn regime<'a>(app: &'a App, code: &str) -> Result<&'a crate::ir::Regime, Refusal> {
    app.lib
        .regimes
        .iter()
        .find(|r| r.code == code)
        .ok_or(Refusal::NotFound)
}

fn answer(a: super::reports::Answer) -> Response {
    json(
        StatusCode::from_u16(a.status).unwrap_or(StatusCode::OK),
        &a.body,
    )
}

fn receive(app: &App, headers: &HeaderMap, code: &str, body: &[u8], draft: bool) -> Response {
    let result = posted(app, headers, None).and_then(|s| {
        let r = regime(app, code)?;
        super::reports::receive(app, &s.user, r, body, draft)
    });
    match result {
        Ok(a) => answer(a),
        Err(r) => r.api(),
    }
}

/// `POST /api/r/{regime}/draft`: a submission document stored as drafts.
async fn api_draft(
    State(app): Shared,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    blocking(move || receive(&app, &headers, &code, &body, true)).await
}

/// `POST /api/r/{regime}/submit`: a submission document, checked and
/// stored as submitted.
async fn api_submit(
    State(app): Shared,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    blocking(move || receive(&app, &headers, &code, &body, false)).await
}

#[derive(Deserialize)]
struct PeriodQuery {
    period: Option<String>,
}

/// `GET /api/r/{regime}/reports[?period=P]`: the latest revision of each
/// report the user may see.
async fn api_reports(
    State(app): Shared,
    Path(code): Path<String>,
    Query(q): Query<PeriodQuery>,
    headers: HeaderMap,
) -> Response {
    blocking(move || {
        let result = logged_in(&app, &headers).and_then(|s| {
            let r = regime(&app, &code)?;
            super::reports::list(&app, &s.user, r, q.period.as_deref())
        });
        match result {
            Ok(list) => json(StatusCode::OK, &serde_json::json!({ "reports": list })),
            Err(r) => r.api(),
        }
    })
    .await
}

/// `GET /api/r/{regime}/report/{form}/{unit}/{period}`: one report, its
/// revisions and the values of the latest.
async fn api_report(
    State(app): Shared,
    Path((code, form, unit, period)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    blocking(move || {
        let result = logged_in(&app, &headers).and_then(|s| {
            let r = regime(&app, &code)?;
            super::reports::report(&app, &s.user, r, &form, &unit, &period)
        });
        match result {
            Ok(j) => json(StatusCode::OK, &j),
            Err(r) => r.api(),
        }
    })
    .await
}

// ------------------------------------------------------------ workflow

#[derive(Deserialize)]
struct DecisionBody {
    revision: i64,
    #[serde(default)]
    reason: Option<String>,
}

fn decide(
    app: &App,
    headers: &HeaderMap,
    (code, form, unit, period): (String, String, String, String),
    body: &[u8],
    decision: super::workflow::Decision,
) -> Response {
    let result = posted(app, headers, None).and_then(|s| {
        let r = regime(app, &code)?;
        let Ok(b) = serde_json::from_slice::<DecisionBody>(body) else {
            return Ok(super::reports::Answer {
                status: 422,
                body: serde_json::json!({"error": "expected {\"revision\": N, \"reason\": \"…\"}"}),
            });
        };
        super::workflow::decide(
            app,
            &s.user,
            r,
            &form,
            &unit,
            &period,
            decision,
            b.revision,
            b.reason.as_deref(),
        )
    });
    match result {
        Ok(a) => answer(a),
        Err(r) => r.api(),
    }
}

/// `POST …/report/{form}/{unit}/{period}/approve` `{"revision": N}`.
async fn api_approve(
    State(app): Shared,
    Path(key): Path<(String, String, String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    blocking(move || {
        decide(
            &app,
            &headers,
            key,
            &body,
            super::workflow::Decision::Approve,
        )
    })
    .await
}

/// `POST …/report/{form}/{unit}/{period}/return` `{"revision": N, "reason": "…"}`.
async fn api_return(
    State(app): Shared,
    Path(key): Path<(String, String, String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    blocking(move || {
        decide(
            &app,
            &headers,
            key,
            &body,
            super::workflow::Decision::Return,
        )
    })
    .await
}

#[derive(Deserialize)]
struct ExpectedQuery {
    period: String,
    #[serde(default)]
    format: Option<String>,
}

/// `GET /api/r/{regime}/expected?period=P[&format=csv]`: every report
/// expected from the reporters the user sees, with status and lateness.
async fn api_expected(
    State(app): Shared,
    Path(code): Path<String>,
    Query(q): Query<ExpectedQuery>,
    headers: HeaderMap,
) -> Response {
    blocking(move || {
        let result = logged_in(&app, &headers).and_then(|s| {
            let r = regime(&app, &code)?;
            super::workflow::expected(&app, &s.user, r, &q.period)
        });
        match result {
            Ok(rows) if q.format.as_deref() == Some("csv") => {
                match super::workflow::expected_csv(&rows) {
                    Ok(text) => (
                        [
                            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                            (
                                header::CONTENT_DISPOSITION,
                                format!(
                                    "attachment; filename=\"{code}.{}.expected.csv\"",
                                    q.period
                                )
                                .replace(|c: char| !c.is_ascii_graphic() && c != ' ', "_"),
                            ),
                        ],
                        text,
                    )
                        .into_response(),
                    Err(e) => internal(&e),
                }
            }
            Ok(rows) => json(StatusCode::OK, &serde_json::json!({ "expected": rows })),
            Err(r) => r.api(),
        }
    })
    .await
}

// ------------------------------------------------------------ seeing

#[derive(Deserialize)]
struct RollupQuery {
    period: String,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    form: Option<String>,
    #[serde(default)]
    format: Option<String>,
}

fn csv_download(name: &str, text: String) -> Response {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        text,
    )
        .into_response()
}

/// `GET /api/r/{regime}/rollup?period=P[&unit=U][&form=F][&format=csv]`.
async fn api_rollup(
    State(app): Shared,
    Path(code): Path<String>,
    Query(q): Query<RollupQuery>,
    headers: HeaderMap,
) -> Response {
    blocking(move || {
        let result = logged_in(&app, &headers).and_then(|s| {
            let r = regime(&app, &code)?;
            super::seeing::rollups(
                &app,
                &s.user,
                r,
                &q.period,
                q.unit.as_deref(),
                q.form.as_deref(),
            )
        });
        match result {
            Ok(forms) if q.format.as_deref() == Some("csv") => match super::seeing::csv(&forms) {
                Ok(text) => csv_download(&format!("{code}.{}.rollup", q.period), text),
                Err(e) => internal(&e),
            },
            Ok(forms) => json(StatusCode::OK, &serde_json::json!({ "rollups": forms })),
            Err(r) => r.api(),
        }
    })
    .await
}

#[derive(Deserialize)]
struct PageQuery {
    #[serde(default)]
    period: Option<String>,
}

/// `GET /r/{regime}[?period=P]`: the regime's page: the reports the user
/// sees; for a period, who has reported and the roll-up.
async fn regime_page(
    State(app): Shared,
    Path(code): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    blocking(move || {
        let s = match logged_in(&app, &headers) {
            Ok(s) => s,
            Err(r) => return r.page(&app, None),
        };
        match regime_body(
            &app,
            &s,
            &code,
            q.period.as_deref().filter(|p| !p.is_empty()),
        ) {
            Ok(body) => html(StatusCode::OK, body),
            Err(r) => r.page(&app, Some(&s)),
        }
    })
    .await
}

fn regime_body(
    app: &App,
    s: &Session,
    code: &str,
    period: Option<&str>,
) -> Result<String, Refusal> {
    let r = regime(app, code)?;
    let reports = super::reports::list(app, &s.user, r, None)?;
    let period = period
        .map(str::to_string)
        .or_else(|| reports.iter().map(|x| x.period.clone()).max());
    let (expected, rollups) = match &period {
        Some(p) => {
            let expected = match super::workflow::expected(app, &s.user, r, p) {
                Ok(e) => e,
                Err(Refusal::NotFound) => Vec::new(),
                Err(e) => return Err(e),
            };
            let forms = super::seeing::rollups(app, &s.user, r, p, None, None)?;
            let forms: Vec<minijinja::Value> = forms
                .iter()
                .map(|f| {
                    let form = r.forms.iter().find(|x| x.code == f.form);
                    let labels: Vec<String> = f
                        .cells
                        .iter()
                        .map(|c| {
                            form.and_then(|x| x.cells.iter().find(|y| y.id == *c))
                                .map_or_else(|| c.clone(), |y| y.label.clone())
                        })
                        .collect();
                    context! {
                        form => f.form,
                        title => form.map(|x| x.title.clone()).unwrap_or_default(),
                        cells => labels,
                        rows => f.rows,
                    }
                })
                .collect();
            (expected, forms)
        }
        None => (Vec::new(), Vec::new()),
    };
    // Each report, with whether the user may decide on it now.
    let mut deciders: std::collections::HashMap<String, bool> = Default::default();
    let mut rows = Vec::new();
    for x in &reports {
        let may = match deciders.get(&x.unit) {
            Some(m) => *m,
            None => {
                let m = super::access::can_decide(&app.store, &app.lib, r, &s.user, &x.unit)?;
                deciders.insert(x.unit.clone(), m);
                m
            }
        };
        rows.push(context! {
            form => x.form, unit => x.unit, period => x.period, revision => x.revision,
            status => x.status, submitted_at => x.submitted_at, submitter => x.submitter,
            decide => may && x.status == "submitted",
        });
    }
    // The forms the user fills in for its own unit, for the period.
    let entry: Vec<minijinja::Value> = match &period {
        Some(p) if super::access::can_submit(&app.lib, r, &s.user, &s.user.unit) => r
            .forms
            .iter()
            .map(|f| {
                context! {
                    form => f.code,
                    title => f.title,
                    href => format!("/f/{}/{}/{}/{}", r.code, f.code, s.user.unit, p),
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    let ctx = context! {
        entry,
        title => r.titles.get("vi").cloned().unwrap_or_else(|| r.code.clone()),
        user => user_ctx(app, s),
        csrf => s.csrf,
        regime => context! {
            code => r.code,
            title => r.titles.get("vi").cloned().unwrap_or_else(|| r.code.clone()),
            basis => r.basis, owner => r.owner, frequency => r.frequency.name(),
        },
        period,
        reports => rows,
        expected,
        rollups,
    };
    Ok(pages::render(&app.pages, "regime.html", ctx)?)
}

// ------------------------------------------------------------ forms

fn asset(kind: &'static str, text: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        text,
    )
        .into_response()
}

async fn forms_js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        crate::emit::forms::script(),
    )
}

async fn forms_css() -> Response {
    asset(
        "text/css; charset=utf-8",
        crate::emit::forms::CSS.to_string(),
    )
}

async fn serve_form_js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        super::forms::SCRIPT.to_string(),
    )
}

/// `GET /f/{regime}/{form}/{unit}/{period}`: the form to fill in.
async fn form_page(
    State(app): Shared,
    Path((code, form, unit, period)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    blocking(move || {
        let s = match logged_in(&app, &headers) {
            Ok(s) => s,
            Err(r) => return r.page(&app, None),
        };
        let page = regime(&app, &code)
            .and_then(|r| super::forms::page(&app, &s, r, &form, &unit, &period));
        match page {
            Ok(body) => html(StatusCode::OK, body),
            Err(r) => r.page(&app, Some(&s)),
        }
    })
    .await
}

#[derive(Deserialize)]
struct DecideForm {
    #[serde(default)]
    csrf: String,
    form: String,
    unit: String,
    period: String,
    revision: i64,
    action: String,
    #[serde(default)]
    reason: String,
}

/// `POST /r/{regime}/decide`: the approve and return buttons of the
/// regime's page.
async fn decide_form(
    State(app): Shared,
    Path(code): Path<String>,
    headers: HeaderMap,
    Form(f): Form<DecideForm>,
) -> Response {
    blocking(move || {
        let s = match posted(&app, &headers, Some(&f.csrf)) {
            Ok(s) => s,
            Err(r) => {
                let s = session(&app, &headers).ok().flatten();
                return r.page(&app, s.as_ref());
            }
        };
        let decision = match f.action.as_str() {
            "approve" => super::workflow::Decision::Approve,
            "return" => super::workflow::Decision::Return,
            _ => return Refusal::NotFound.page(&app, Some(&s)),
        };
        let result = regime(&app, &code).and_then(|r| {
            super::workflow::decide(
                &app,
                &s.user,
                r,
                &f.form,
                &f.unit,
                &f.period,
                decision,
                f.revision,
                Some(&f.reason),
            )
        });
        match result {
            Ok(a) if a.status == 200 => redirect(&format!(
                "/r/{}?period={}",
                code,
                f.period
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect::<String>()
            )),
            Ok(a) => message(
                &app,
                StatusCode::from_u16(a.status).unwrap_or(StatusCode::CONFLICT),
                Some(&s),
                "Không thực hiện được (Not done)",
                a.body
                    .get("error")
                    .and_then(|e| e.as_str())
                    .unwrap_or("refused"),
            ),
            Err(r) => r.page(&app, Some(&s)),
        }
    })
    .await
}
