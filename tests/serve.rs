//! `regc serve` driven over HTTP: each test starts the real server on a free
//! port with a fresh SQLite database and a small library (the fixture data
//! and one commune regime), and talks to it with a plain HTTP client.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A regime reported by communes, forwarded by provinces to a ministry.
const REGIME: &str = r#"use common.units

regime test.commune_pupils {
  title     "Báo cáo học sinh cấp xã"
  title.en  "Commune pupils"
  basis     "Thông tư thử nghiệm"
  owner     "Bộ Giáo dục và Đào tạo"
  version   1 effective 2025-01-01
  frequency monthly
  cutoff    calendar
  reporters commune
  flow      commune -> province -> ministry
  deadline  commune 5 working days after cutoff,
            province 10 working days after cutoff,
            ministry day 25 of next month

  form B01 "Học sinh" {
    columns {
      count "Số lượng" entered
    }
    rows {
      1 pupils "Tổng số học sinh" : int [person]
          split "Chia ra" {
            1.1 boys  "Nam" : int [person]
            1.2 girls "Nữ"  : int [person]
          }
      2 classes "Số lớp" : int [class]
    }
  }

  rule R01 warning "Số học sinh nữ gấp hơn hai lần số nam ({girls.count} nữ, {boys.count} nam)":
    girls.count <= boys.count * 2
    missing skip_if_any
}
"#;

const PASSWORD: &str = "mật khẩu đủ dài";

/// A library folder: the fixture library plus [`REGIME`].
fn library(dir: &Path) -> PathBuf {
    let lib = dir.join("lib");
    copy_dir(&common::repo().join("tests/fixtures/lib"), &lib);
    std::fs::write(lib.join("pupils.regime"), REGIME).unwrap();
    lib
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn regc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_regc"))
}

/// A running server; killed when dropped.
struct Server {
    child: Child,
    base: String,
    db: PathBuf,
    lib: PathBuf,
    _dir: tempfile_dir::Dir,
}

mod tempfile_dir {
    /// A temporary folder removed on drop.
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    pub fn new(name: &str) -> Dir {
        let p = std::env::temp_dir().join(format!(
            "regc-serve-{name}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
}

impl Server {
    /// Creates the users (name, unit, role), then starts the server.
    fn start(name: &str, users: &[(&str, &str, &str)], extra: &[&str]) -> Server {
        Server::start_on(name, users, extra, None)
    }

    /// As [`Server::start`], on the database `url` (default: a fresh SQLite file).
    fn start_on(
        name: &str,
        users: &[(&str, &str, &str)],
        extra: &[&str],
        url: Option<&str>,
    ) -> Server {
        let dir = tempfile_dir::new(name);
        let lib = library(&dir.0);
        let db = dir.0.join("regc.db");
        let db_arg = url.map_or_else(|| format!("sqlite:{}", db.display()), str::to_string);
        for (user, unit, role) in users {
            let out = regc()
                .args(["serve", lib.to_str().unwrap(), "--db", &db_arg])
                .args(["--create-user", user, "--unit", unit, "--role", role])
                .env("REGC_PASSWORD", PASSWORD)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "create-user {user}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let mut child = regc()
            .args(["serve", lib.to_str().unwrap(), "--db", &db_arg])
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let base = line
            .trim()
            .rsplit_once("listening on ")
            .map(|(_, a)| a.to_string())
            .unwrap_or_else(|| panic!("the server said {line:?}"));
        Server {
            child,
            base,
            db,
            lib,
            _dir: dir,
        }
    }

    fn client(&self) -> Client {
        Client {
            base: self.base.clone(),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .build()
                .into(),
            cookies: BTreeMap::new(),
            csrf: String::new(),
        }
    }

    /// Runs SQL on the server's database, as an operator (or a clock) would.
    fn sql(&self, sql: &str) {
        let c = rusqlite::Connection::open(&self.db).unwrap();
        c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
        c.execute_batch(sql).unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client with a cookie jar, following no redirect.
struct Client {
    base: String,
    agent: ureq::Agent,
    cookies: BTreeMap<String, String>,
    csrf: String,
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl Client {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn reply(&mut self, r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
        let mut r = r.unwrap();
        let headers: Vec<(String, String)> = r
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        for (k, v) in &headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                let first = v.split(';').next().unwrap();
                let (name, value) = first.split_once('=').unwrap();
                if value.is_empty() || v.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_string(), value.to_string());
                }
            }
        }
        Reply {
            status: r.status().as_u16(),
            body: r.body_mut().read_to_string().unwrap_or_default(),
            headers,
        }
    }

    fn get(&mut self, path: &str) -> Reply {
        let r = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Cookie", self.cookie_header())
            .call();
        self.reply(r)
    }

    fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let r = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Cookie", self.cookie_header())
            .send_form(fields.iter().copied());
        self.reply(r)
    }

    /// POSTs JSON with `csrf` as the `X-CSRF-Token` header (none if `None`).
    fn post_json(&mut self, path: &str, body: &serde_json::Value, csrf: Option<&str>) -> Reply {
        let mut req = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Cookie", self.cookie_header())
            .header("Content-Type", "application/json");
        if let Some(t) = csrf {
            req = req.header("X-CSRF-Token", t);
        }
        let r = req.send(body.to_string());
        self.reply(r)
    }

    /// Logs in through the HTML form, as a browser does.
    fn login_form(&mut self, name: &str, password: &str) -> Reply {
        let page = self.get("/login");
        assert_eq!(page.status, 200);
        let token = hidden(&page.body, "csrf");
        self.post_form(
            "/login",
            &[("name", name), ("password", password), ("csrf", &token)],
        )
    }

    /// Logs in through the API; keeps the CSRF token.
    fn login(&mut self, name: &str) {
        let r = self.post_json(
            "/api/login",
            &serde_json::json!({"name": name, "password": PASSWORD}),
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        self.csrf = r.json()["csrf"].as_str().unwrap().to_string();
    }
}

/// The value of the hidden input `name` in a page.
fn hidden(page: &str, name: &str) -> String {
    let at = page
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no hidden {name} in {page}"));
    let rest = &page[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_string()
}

const COMMUNE: (&str, &str, &str) = ("ba_dinh", "00004", "reporter");

#[test]
fn login_sets_a_strict_http_only_session_and_logout_ends_it() {
    let s = Server::start("login", &[COMMUNE], &[]);
    let mut c = s.client();
    // Not logged in: the home page sends to the login page.
    let r = c.get("/");
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/login"));

    let r = c.login_form("ba_dinh", PASSWORD);
    assert_eq!(r.status, 303, "{}", r.body);
    let set: Vec<&str> = r
        .headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.as_str())
        .collect();
    let session = set
        .iter()
        .find(|v| v.starts_with("regc_session="))
        .expect("a session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(session.contains(flag), "{session} lacks {flag}");
    }
    assert!(
        !c.cookies.contains_key("regc_login"),
        "the login cookie is cleared"
    );

    let home = c.get("/");
    assert_eq!(home.status, 200);
    assert!(home.body.contains("test.commune_pupils"));
    assert!(home.body.contains("Phường Ba Đình"));
    let csp = home.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    let csrf = hidden(&home.body, "csrf");

    // Logging out needs the session's CSRF token.
    let r = c.post_form("/logout", &[]);
    assert_eq!(r.status, 403);
    let r = c.post_form("/logout", &[("csrf", "0".repeat(64).as_str())]);
    assert_eq!(r.status, 403);
    assert_eq!(
        c.get("/").status,
        200,
        "a refused logout leaves the session"
    );
    let r = c.post_form("/logout", &[("csrf", csrf.as_str())]);
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/login"));
    assert!(!c.cookies.contains_key("regc_session"));
    // The old cookie no longer opens anything, even if kept.
    let mut stale = s.client();
    stale
        .cookies
        .insert("regc_session".into(), session[13..77].to_string());
    assert_eq!(stale.get("/").status, 303);
    assert_eq!(stale.get("/api/session").status, 401);
}

#[test]
fn login_refuses_wrong_passwords_forged_forms_and_floods() {
    let s = Server::start("limit", &[COMMUNE], &[]);
    let mut c = s.client();
    // The login form's token must come back with the cookie set with it.
    let r = c.post_form(
        "/login",
        &[("name", "ba_dinh"), ("password", PASSWORD), ("csrf", "x")],
    );
    assert_eq!(r.status, 403);
    c.get("/login");
    let r = c.post_form(
        "/login",
        &[
            ("name", "ba_dinh"),
            ("password", PASSWORD),
            ("csrf", "forged"),
        ],
    );
    assert_eq!(r.status, 403);
    assert!(!c.cookies.contains_key("regc_session"));

    // A wrong password and an unknown name read alike.
    let wrong = c.login_form("ba_dinh", "not the password");
    let unknown = c.login_form("nobody", "not the password");
    assert_eq!((wrong.status, unknown.status), (401, 401));
    assert!(wrong.body.contains("Sai tên đăng nhập hoặc mật khẩu"));
    assert!(unknown.body.contains("Sai tên đăng nhập hoặc mật khẩu"));
    assert!(!c.cookies.contains_key("regc_session"));

    // A name is shown back as text.
    let r = c.login_form("<script>alert(1)</script>", "x");
    assert!(!r.body.contains("<script>alert(1)"));
    assert!(r.body.contains("&lt;script&gt;alert(1)&lt;"));

    // Five failures from this address: the right password is refused too.
    for _ in 0..2 {
        assert_eq!(c.login_form("ba_dinh", "still wrong").status, 401);
    }
    let r = c.login_form("ba_dinh", PASSWORD);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(!c.cookies.contains_key("regc_session"));
    let mut api = s.client();
    let r = api.post_json(
        "/api/login",
        &serde_json::json!({"name": "ba_dinh", "password": PASSWORD}),
        None,
    );
    assert_eq!(r.status, 429);
}

#[test]
fn the_api_needs_the_csrf_token_and_a_live_session() {
    let s = Server::start("api", &[COMMUNE], &["--session-minutes", "30"]);
    let mut c = s.client();
    assert_eq!(c.get("/api/session").status, 401);
    c.login("ba_dinh");
    let me = c.get("/api/session");
    assert_eq!(me.status, 200);
    let me = me.json();
    assert_eq!(me["unit"], "00004");
    assert_eq!(me["role"], "reporter");
    assert_eq!(me["csrf"], c.csrf.as_str());

    let body = serde_json::json!({});
    let r = c.post_json("/api/logout", &body, None);
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"], "missing or wrong CSRF token");
    let forged = "f".repeat(64);
    assert_eq!(c.post_json("/api/logout", &body, Some(&forged)).status, 403);
    // Another session's token is no good either.
    let mut other = s.client();
    other.login("ba_dinh");
    assert_ne!(other.csrf, c.csrf);
    let theirs = other.csrf.clone();
    assert_eq!(c.post_json("/api/logout", &body, Some(&theirs)).status, 403);
    assert_eq!(c.get("/api/session").status, 200);

    // An expired session is refused (and forgotten).
    s.sql(r#"UPDATE "regc_session" SET "expires_at" = '2000-01-01T00:00:00Z'"#);
    let r = c.get("/api/session");
    assert_eq!(r.status, 401);
    assert!(!r.body.contains("ba_dinh"));
    assert_eq!(c.get("/").status, 303);
    let csrf = c.csrf.clone();
    assert_eq!(c.post_json("/api/logout", &body, Some(&csrf)).status, 401);
    let c2 = rusqlite::Connection::open(&s.db).unwrap();
    let n: i64 = c2
        .query_row(r#"SELECT count(*) FROM "regc_session""#, [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1, "the expired session was deleted; the other remains");
    let _ = &s.lib;
}

#[test]
fn create_user_checks_unit_role_password_and_duplicates() {
    let dir = tempfile_dir::new("users");
    let lib = library(&dir.0);
    let db = format!("sqlite:{}", dir.0.join("u.db").display());
    let run = |user: &str, unit: &str, role: &str, password: &str| {
        regc()
            .args(["serve", lib.to_str().unwrap(), "--db", &db])
            .args(["--create-user", user, "--unit", unit, "--role", role])
            .env("REGC_PASSWORD", password)
            .output()
            .unwrap()
    };
    let ok = run("hp", "31", "approver", PASSWORD);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("created user hp"));
    for (user, unit, role, password, why) in [
        ("hp", "31", "approver", PASSWORD, "already a user"),
        ("x", "99999", "reporter", PASSWORD, "no org unit"),
        ("x", "31", "king", PASSWORD, "unknown role"),
        ("x", "31", "viewer", "short", "at least 8"),
    ] {
        let out = run(user, unit, role, password);
        assert_eq!(out.status.code(), Some(2), "{why}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(why), "{why}: {err}");
    }
    // The password is stored hashed with argon2id, never as given.
    let c = rusqlite::Connection::open(dir.0.join("u.db")).unwrap();
    let hash: String = c
        .query_row(
            r#"SELECT "password_hash" FROM "regc_user" WHERE "name" = 'hp'"#,
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains(PASSWORD));
    // The database is in WAL mode.
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

/// A submission document of B01, as the form page writes it.
fn doc(unit: &str, values: [i64; 4], why: Option<&str>) -> serde_json::Value {
    let [pupils, boys, girls, classes] = values;
    let mut sub = serde_json::json!({
        "unit": unit, "period": "2025-08", "form": "B01",
        "records": {"0": {
            "pupils.count": pupils.to_string(), "boys.count": boys.to_string(),
            "girls.count": girls.to_string(), "classes.count": classes.to_string(),
        }},
    });
    if let Some(why) = why {
        sub["explanations"] = serde_json::json!({ "R01": why });
    }
    serde_json::json!({"regime": "test.commune_pupils", "submissions": [sub]})
}

const API: &str = "/api/r/test.commune_pupils";
const REPORT: &str = "/api/r/test.commune_pupils/report/B01/00004/2025-08";

fn count(s: &Server, sql: &str) -> i64 {
    let c = rusqlite::Connection::open(&s.db).unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn a_commune_saves_a_draft_submits_after_the_checks_and_corrects() {
    let s = Server::start("submit", &[COMMUNE], &[]);
    let mut c = s.client();
    c.login("ba_dinh");
    let csrf = c.csrf.clone();

    // A draft is stored without the checks, even with an error.
    let r = c.post_json(
        &format!("{API}/draft"),
        &doc("00004", [100, 50, 40, 4], None),
        Some(&csrf),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "draft");
    let rep = c.get(REPORT);
    assert_eq!(rep.status, 200, "{}", rep.body);
    let rep = rep.json();
    assert_eq!(rep["status"], "draft");
    assert_eq!(rep["records"]["0"]["pupils.count"], "100");
    assert_eq!(rep["records"]["0"]["girls.count"], "40");

    // Submitting: the split rule (50 + 40 ≠ 100) blocks it; nothing is written.
    let r = c.post_json(
        &format!("{API}/submit"),
        &doc("00004", [100, 50, 40, 4], None),
        Some(&csrf),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    let errors = r.json()["errors"].as_array().unwrap().clone();
    assert!(
        errors
            .iter()
            .any(|e| e["rule"].as_str().unwrap().starts_with("split.")),
        "{errors:?}"
    );
    assert_eq!(count(&s, r#"SELECT count(*) FROM "regc_submission""#), 1);

    // A warning (girls more than twice the boys) needs an explanation.
    let r = c.post_json(
        &format!("{API}/submit"),
        &doc("00004", [100, 30, 70, 4], None),
        Some(&csrf),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["unexplained"][0]["rule"], "R01");
    assert_eq!(count(&s, r#"SELECT count(*) FROM "regc_submission""#), 1);
    let r = c.post_json(
        &format!("{API}/submit"),
        &doc("00004", [100, 30, 70, 4], Some("Trường nữ sinh mới mở")),
        Some(&csrf),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "submitted");
    assert_eq!(r.json()["warnings"][0]["rule"], "R01");

    // A correction is a new revision; the old ones stay as they were.
    let r = c.post_json(
        &format!("{API}/submit"),
        &doc("00004", [100, 50, 50, 4], None),
        Some(&csrf),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["corrections"], 1);
    let rep = c.get(REPORT).json();
    assert_eq!(rep["revision"], 3);
    assert_eq!(rep["status"], "submitted");
    assert_eq!(rep["records"]["0"]["girls.count"], "50");
    let revs = rep["revisions"].as_array().unwrap();
    assert_eq!(
        revs.iter()
            .map(|r| r["status"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["draft", "submitted", "submitted"]
    );
    assert_eq!(revs[1]["submitter"], "ba_dinh");
    assert_eq!(
        revs[1]["violations"][0]["explanation"],
        "Trường nữ sinh mới mở"
    );
    assert_eq!(
        count(&s, r#"SELECT count(*) FROM "test.commune_pupils.B01""#),
        3,
        "every revision keeps its row"
    );
    let girls: Vec<i64> = {
        let db = rusqlite::Connection::open(&s.db).unwrap();
        let mut st = db
            .prepare(
                r#"SELECT "girls.count" FROM "test.commune_pupils.B01" ORDER BY "submission_id""#,
            )
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(girls, [40, 70, 50]);

    // The same values as a draft, then submitted: the draft becomes a
    // submitted revision (same values are otherwise unchanged).
    let d = doc("00004", [90, 45, 45, 3], None);
    assert_eq!(
        c.post_json(&format!("{API}/draft"), &d, Some(&csrf)).status,
        200
    );
    let r = c.post_json(&format!("{API}/submit"), &d, Some(&csrf));
    assert_eq!(r.json()["written"], 1, "{}", r.body);
    let r = c.post_json(&format!("{API}/submit"), &d, Some(&csrf));
    assert_eq!(r.json()["unchanged"], 1, "{}", r.body);
    assert_eq!(c.get(REPORT).json()["revision"], 5);

    // Input that is not a submission says why, and stores nothing.
    let r = c.post_json(
        &format!("{API}/submit"),
        &serde_json::json!({"submissions": 3}),
        Some(&csrf),
    );
    assert_eq!(r.status, 422);
    let mut bad = doc("00004", [1, 1, 0, 1], None);
    bad["submissions"][0]["records"]["0"]["pupils.count"] = "nhiều".into();
    assert_eq!(
        c.post_json(&format!("{API}/submit"), &bad, Some(&csrf))
            .status,
        422
    );
    assert_eq!(count(&s, r#"SELECT count(*) FROM "regc_submission""#), 5);
}

#[test]
fn every_report_endpoint_refuses_the_wrong_unit_and_leaks_nothing() {
    let users = [
        COMMUNE,
        ("hong_bang", "11311", "reporter"),
        ("hanoi", "01", "approver"),
        ("haiphong", "31", "approver"),
        ("bgddt", "BGDDT", "viewer"),
        ("port", "CVHH-HP", "viewer"),
    ];
    let s = Server::start("access", &users, &[]);
    let mut ba_dinh = s.client();
    ba_dinh.login("ba_dinh");
    let csrf = ba_dinh.csrf.clone();
    let secret = doc("00004", [4242, 2121, 2121, 99], None);
    let r = ba_dinh.post_json(&format!("{API}/submit"), &secret, Some(&csrf));
    assert_eq!(r.status, 200, "{}", r.body);

    // The same report seen by each user: its unit, the province above it,
    // the ministry owning the regime; not another commune, not another
    // province, not a unit outside the regime.
    for (user, sees) in [
        ("ba_dinh", true),
        ("hanoi", true),
        ("bgddt", true),
        ("hong_bang", false),
        ("haiphong", false),
        ("port", false),
    ] {
        let mut c = s.client();
        c.login(user);
        let r = c.get(REPORT);
        let list = c.get(&format!("{API}/reports?period=2025-08"));
        if sees {
            assert_eq!(r.status, 200, "{user}: {}", r.body);
            assert!(r.body.contains("4242"));
            assert_eq!(list.status, 200);
            assert_eq!(list.json()["reports"][0]["unit"], "00004", "{user}");
        } else {
            assert_eq!(r.status, 404, "{user}: {}", r.body);
            assert!(
                !r.body.contains("4242") && !r.body.contains("ba_dinh"),
                "{user}: {}",
                r.body
            );
            assert!(!list.body.contains("00004"), "{user}: {}", list.body);
            assert!(list.status == 200 || list.status == 404, "{user}");
        }
        // Nobody but the commune's reporter submits for it.
        if user != "ba_dinh" {
            let csrf = c.csrf.clone();
            let forged = doc("00004", [1, 1, 0, 1], None);
            for path in ["submit", "draft"] {
                let r = c.post_json(&format!("{API}/{path}"), &forged, Some(&csrf));
                assert_eq!(r.status, 403, "{user} {path}: {}", r.body);
            }
        }
    }
    // The unit outside the regime does not see it at all.
    let mut port = s.client();
    port.login("port");
    assert_eq!(port.get(&format!("{API}/reports")).status, 404);
    // An unknown regime, form or period is 404 for everyone.
    for path in [
        "/api/r/no.such/reports",
        "/api/r/test.commune_pupils/report/B09/00004/2025-08",
        "/api/r/test.commune_pupils/report/B01/00004/2031-01",
    ] {
        assert_eq!(ba_dinh.get(path).status, 404, "{path}");
    }
    // Without a session, or without the CSRF token: refused, nothing stored.
    let mut anon = s.client();
    assert_eq!(anon.get(REPORT).status, 401);
    assert_eq!(
        anon.post_json(&format!("{API}/submit"), &secret, None)
            .status,
        401
    );
    let changed = doc("00004", [10, 5, 5, 1], None);
    assert_eq!(
        ba_dinh
            .post_json(&format!("{API}/submit"), &changed, None)
            .status,
        403
    );
    assert_eq!(
        ba_dinh
            .post_json(&format!("{API}/submit"), &changed, Some(&"0".repeat(64)))
            .status,
        403
    );
    assert_eq!(count(&s, r#"SELECT count(*) FROM "regc_submission""#), 1);
}

#[test]
fn the_province_returns_then_approves_and_two_approvers_do_not_both_win() {
    let users = [
        COMMUNE,
        ("hong_bang", "11311", "reporter"),
        ("hanoi", "01", "approver"),
        ("hanoi2", "01", "approver"),
        ("haiphong", "31", "approver"),
        ("bgddt", "BGDDT", "viewer"),
        ("port", "CVHH-HP", "viewer"),
    ];
    let s = Server::start("workflow", &users, &[]);
    let mut ba_dinh = s.client();
    ba_dinh.login("ba_dinh");
    let csrf = ba_dinh.csrf.clone();
    let r = ba_dinh.post_json(
        &format!("{API}/submit"),
        &doc("00004", [10, 5, 5, 1], None),
        Some(&csrf),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let approve = format!("{REPORT}/approve");
    let ret = format!("{REPORT}/return");
    let rev = |n: i64| serde_json::json!({ "revision": n });

    // Those who may not decide: another commune and another province (who
    // do not see it), the commune itself, the ministry's viewer.
    for (user, status) in [
        ("hong_bang", 404),
        ("haiphong", 404),
        ("ba_dinh", 403),
        ("bgddt", 403),
        ("port", 404),
    ] {
        let mut c = s.client();
        c.login(user);
        let t = c.csrf.clone();
        for path in [&approve, &ret] {
            let body = serde_json::json!({"revision": 1, "reason": "x"});
            let r = c.post_json(path, &body, Some(&t));
            assert_eq!(r.status, status, "{user} {path}: {}", r.body);
        }
    }
    let mut hanoi = s.client();
    hanoi.login("hanoi");
    let t = hanoi.csrf.clone();
    assert_eq!(
        hanoi.post_json(&approve, &rev(1), None).status,
        403,
        "no CSRF token"
    );
    // Returning needs a reason.
    assert_eq!(hanoi.post_json(&ret, &rev(1), Some(&t)).status, 422);
    let r = hanoi.post_json(
        &ret,
        &serde_json::json!({"revision": 1, "reason": "Thiếu số lớp"}),
        Some(&t),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ba_dinh.get(REPORT).json()["status"], "returned");
    // A returned revision cannot be approved; the commune corrects it.
    assert_eq!(hanoi.post_json(&approve, &rev(1), Some(&t)).status, 409);
    let r = ba_dinh.post_json(
        &format!("{API}/submit"),
        &doc("00004", [10, 5, 5, 2], None),
        Some(&csrf),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // Approving the old revision is refused: the approver has not seen the new one.
    let r = hanoi.post_json(&approve, &rev(1), Some(&t));
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["revision"], 2);

    // Two approvers at once: exactly one wins.
    let mut hanoi2 = s.client();
    hanoi2.login("hanoi2");
    let t2 = hanoi2.csrf.clone();
    let (a, b) = std::thread::scope(|sc| {
        let a = sc.spawn(|| hanoi.post_json(&approve, &rev(2), Some(&t)).status);
        let b = sc.spawn(|| hanoi2.post_json(&approve, &rev(2), Some(&t2)).status);
        (a.join().unwrap(), b.join().unwrap())
    });
    let mut both = [a, b];
    both.sort();
    assert_eq!(both, [200, 409]);
    let rep = ba_dinh.get(REPORT).json();
    assert_eq!(rep["status"], "approved");
    let decisions = rep["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 2, "{decisions:?}");
    assert_eq!(decisions[0]["action"], "returned");
    assert_eq!(decisions[0]["actor"], "hanoi");
    assert_eq!(decisions[0]["reason"], "Thiếu số lớp");
    assert_eq!(decisions[0]["revision"], 1);
    assert_eq!(decisions[1]["action"], "approved");
    assert_eq!(decisions[1]["revision"], 2);
    assert_eq!(
        count(&s, r#"SELECT count(*) FROM "regc_submission_event""#),
        2
    );

    // The chase list: the ministry sees both communes, Hải Phòng's missing
    // and late (its deadline in 2025 has passed); Hà Nội sees its own only.
    let mut bgddt = s.client();
    bgddt.login("bgddt");
    let all = bgddt.get(&format!("{API}/expected?period=2025-08"));
    assert_eq!(all.status, 200, "{}", all.body);
    let rows = all.json()["expected"].as_array().unwrap().clone();
    let by_unit: BTreeMap<String, serde_json::Value> = rows
        .iter()
        .map(|r| (r["unit"].as_str().unwrap().to_string(), r.clone()))
        .collect();
    assert_eq!(by_unit.len(), 2, "{rows:?}");
    assert_eq!(by_unit["00004"]["status"], "approved");
    assert_eq!(by_unit["11311"]["status"], "missing");
    assert_eq!(by_unit["11311"]["late"], true);
    assert!(
        by_unit["11311"]["deadline"]
            .as_str()
            .unwrap()
            .starts_with("2025-09")
    );
    let mine = hanoi.get(&format!("{API}/expected?period=2025-08")).json();
    let units: Vec<&str> = mine["expected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["unit"].as_str().unwrap())
        .collect();
    assert_eq!(units, ["00004"]);
    let csv = bgddt.get(&format!("{API}/expected?period=2025-08&format=csv"));
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(
        csv.body
            .starts_with("unit,name,level,form,status,submitted_at,deadline,late\n")
    );
    assert!(
        csv.body
            .contains("11311,Phường Hồng Bàng,commune,B01,missing,,2025-09")
    );
    let mut port = s.client();
    port.login("port");
    assert_eq!(
        port.get(&format!("{API}/expected?period=2025-08")).status,
        404
    );
    assert_eq!(
        bgddt.get(&format!("{API}/expected?period=2025-13")).status,
        404
    );
}

#[test]
fn the_roll_up_sums_what_each_level_sees_as_json_csv_and_a_page() {
    let users = [
        COMMUNE,
        ("hong_bang", "11311", "reporter"),
        ("hanoi", "01", "viewer"),
        ("bgddt", "BGDDT", "viewer"),
        ("port", "CVHH-HP", "viewer"),
    ];
    let s = Server::start("rollup", &users, &[]);
    for (user, unit, values) in [
        ("ba_dinh", "00004", [30, 20, 10, 2]),
        ("hong_bang", "11311", [12, 6, 6, 1]),
    ] {
        let mut c = s.client();
        c.login(user);
        let t = c.csrf.clone();
        let r = c.post_json(&format!("{API}/submit"), &doc(unit, values, None), Some(&t));
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let pupils = |j: &serde_json::Value, unit: &str, period: &str| -> Option<String> {
        let f = &j["rollups"][0];
        let col = f["cells"]
            .as_array()?
            .iter()
            .position(|c| c == "pupils.count")?;
        f["rows"]
            .as_array()?
            .iter()
            .find(|r| r["unit"] == unit && r["period"] == period)
            .and_then(|r| r["values"][col].as_str().map(str::to_string))
    };
    let mut bgddt = s.client();
    bgddt.login("bgddt");
    let all = bgddt.get(&format!("{API}/rollup?period=2025-08"));
    assert_eq!(all.status, 200, "{}", all.body);
    let all = all.json();
    assert_eq!(pupils(&all, "00004", "2025-08").as_deref(), Some("30"));
    assert_eq!(pupils(&all, "01", "2025-08").as_deref(), Some("30"));
    assert_eq!(pupils(&all, "31", "2025-08").as_deref(), Some("12"));
    assert_eq!(
        pupils(&all, "VN", "2025-08").as_deref(),
        Some("42"),
        "{all}"
    );
    // The quarter holds the month.
    let q = bgddt.get(&format!("{API}/rollup?period=2025-Q3")).json();
    assert_eq!(pupils(&q, "VN", "2025-Q3").as_deref(), Some("42"));

    // The province sees its own subtree only: not the other province, not
    // the national total that includes it.
    let mut hanoi = s.client();
    hanoi.login("hanoi");
    let mine = hanoi.get(&format!("{API}/rollup?period=2025-08")).json();
    let units: std::collections::BTreeSet<&str> = mine["rollups"][0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["unit"].as_str().unwrap())
        .collect();
    assert_eq!(units.into_iter().collect::<Vec<_>>(), ["00004", "01"]);
    assert_eq!(
        hanoi
            .get(&format!("{API}/rollup?period=2025-08&unit=31"))
            .status,
        404
    );
    assert_eq!(
        hanoi
            .get(&format!("{API}/rollup?period=2025-08&unit=VN"))
            .status,
        404
    );
    let one = hanoi
        .get(&format!("{API}/rollup?period=2025-08&unit=01"))
        .json();
    assert_eq!(one["rollups"][0]["rows"].as_array().unwrap().len(), 1);
    let mut port = s.client();
    port.login("port");
    assert_eq!(
        port.get(&format!("{API}/rollup?period=2025-08")).status,
        404
    );
    assert_eq!(port.get("/r/test.commune_pupils").status, 404);

    // CSV, and the regime's page with the roll-up and who has reported.
    let csv = bgddt.get(&format!("{API}/rollup?period=2025-08&format=csv"));
    assert_eq!(csv.status, 200);
    assert!(
        csv.header("content-disposition")
            .unwrap()
            .contains("test.commune_pupils.2025-08.rollup.csv")
    );
    let head = csv.body.lines().next().unwrap();
    assert!(
        head.starts_with("form,frequency,period,unit,name,level,reporters,"),
        "{head}"
    );
    assert!(head.contains("pupils.count"));
    assert!(
        csv.body
            .lines()
            .any(|l| l.starts_with("B01,monthly,2025-08,VN,") && l.contains(",42")),
        "{}",
        csv.body
    );
    let page = hanoi.get("/r/test.commune_pupils?period=2025-08");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Tổng số học sinh"));
    assert!(page.body.contains("Phường Ba Đình"));
    assert!(
        !page.body.contains("Hồng Bàng"),
        "another province's commune on the page"
    );
    assert!(page.body.contains("<td class=\"num\">30</td>"));
}

#[test]
fn the_form_page_is_served_for_the_reporters_own_unit_prefilled_with_its_draft() {
    let users = [
        COMMUNE,
        ("hong_bang", "11311", "reporter"),
        ("hanoi", "01", "approver"),
    ];
    let s = Server::start("form", &users, &[]);
    let mut c = s.client();
    c.login("ba_dinh");
    let t = c.csrf.clone();
    let r = c.post_json(
        &format!("{API}/draft"),
        &doc("00004", [100, 50, 40, 4], None),
        Some(&t),
    );
    assert_eq!(r.status, 200);
    let page = c.get("/f/test.commune_pupils/B01/00004/2025-08");
    assert_eq!(page.status, 200, "{}", page.body);
    let b = &page.body;
    assert!(b.contains(r#"<input id="regc-unit" name="unit" required readonly value="00004""#));
    assert!(b.contains(r#"value="2025-08""#));
    assert!(b.contains(&format!(r#"<meta name="regc-csrf" content="{t}">"#)));
    let draft = b
        .split(r#"<script type="application/json" id="regc-draft">"#)
        .nth(1)
        .unwrap();
    let draft: serde_json::Value =
        serde_json::from_str(&draft[..draft.find("</script>").unwrap()]).unwrap();
    assert_eq!(draft["pupils.count"], "100");
    assert_eq!(draft["girls.count"], "40");
    assert!(b.contains(r#"id="regc-rules""#) && b.contains(r#"id="f-pupils.count""#));
    assert!(!b.contains("__REGC_"), "every placeholder is filled");
    // The page's scripts and style are served, from this server only.
    for (path, kind) in [
        ("/f/test.commune_pupils/forms.js", "text/javascript"),
        ("/f/test.commune_pupils/forms.css", "text/css"),
        ("/static/serve-form.js", "text/javascript"),
    ] {
        let r = c.get(path);
        assert_eq!(r.status, 200, "{path}");
        assert!(
            r.header("content-type").unwrap().starts_with(kind),
            "{path}"
        );
    }
    assert!(
        c.get("/f/test.commune_pupils/forms.js")
            .body
            .contains("function formPage")
    );
    // The regime's page links the forms for the user's unit.
    let home = c.get("/r/test.commune_pupils?period=2025-08");
    assert!(
        home.body.contains(
            r#"href="&#x2f;f&#x2f;test.commune_pupils&#x2f;B01&#x2f;00004&#x2f;2025-08""#
        ),
        "minijinja writes / in attributes as &#x2f;, read back as /: {}",
        home.body
    );

    // Another commune's form: not found; the province sees it but may not fill it in.
    let mut other = s.client();
    other.login("hong_bang");
    let r = other.get("/f/test.commune_pupils/B01/00004/2025-08");
    assert_eq!(r.status, 404);
    assert!(!r.body.contains("100"));
    let mut hanoi = s.client();
    hanoi.login("hanoi");
    assert_eq!(
        hanoi.get("/f/test.commune_pupils/B01/00004/2025-08").status,
        403
    );
    // No such form or period.
    assert_eq!(
        c.get("/f/test.commune_pupils/B09/00004/2025-08").status,
        404
    );
    assert_eq!(
        c.get("/f/test.commune_pupils/B01/00004/2025-13").status,
        404
    );
    // Not logged in: to the login page.
    let mut anon = s.client();
    assert_eq!(
        anon.get("/f/test.commune_pupils/B01/00004/2025-08").status,
        303
    );
}

// ---------------------------------------------------------------- browser

/// Whether the browser test can run: the system Chromium and playwright-core
/// (scripts/test.sh installs both). Skipped without them, except under
/// `CI=true`, where it fails.
fn browser() -> bool {
    let chromium = std::env::var("REGC_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let driver = common::repo().join("tests/browser/node_modules/playwright-core");
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if Path::new(&chromium).exists() && driver.is_dir() && node {
        return true;
    }
    let why = format!(
        "chromium at {chromium}: {}, playwright-core: {}, node: {node} (run scripts/test.sh, which installs them)",
        Path::new(&chromium).exists(),
        driver.is_dir()
    );
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true"),
        "CI=true and the browser test cannot run: {why}"
    );
    eprintln!("skipped: {why}");
    false
}

/// Runs tests/browser/serve.mjs over sessions against the server; checks
/// that no page broke its CSP, opened a dialog or asked another server
/// (console errors are the caller's: refusals log failed loads).
fn drive(s: &Server, sessions: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    let plan = s._dir.0.join("plan.json");
    std::fs::write(
        &plan,
        serde_json::json!({"base": s.base, "sessions": sessions}).to_string(),
    )
    .unwrap();
    let o = Command::new("node")
        .arg(common::repo().join("tests/browser/serve.mjs"))
        .arg(&plan)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "driver failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let sessions = report["sessions"].as_array().unwrap().clone();
    for r in &sessions {
        assert_eq!(
            r["csp"],
            serde_json::json!([]),
            "Content-Security-Policy violations"
        );
        assert_eq!(
            r["requests"],
            serde_json::json!([]),
            "requests to another server"
        );
        assert_eq!(r["dialogs"], serde_json::json!([]), "dialogs opened");
    }
    sessions
}

#[test]
fn in_chromium_a_commune_submits_the_province_returns_then_approves_the_ministry_sees() {
    if !browser() {
        return;
    }
    let s = Server::start(
        "browser",
        &[
            COMMUNE,
            ("hanoi", "01", "approver"),
            ("bgddt", "BGDDT", "viewer"),
        ],
        &[],
    );
    // A draft with an error (50 + 40 ≠ 100), saved earlier.
    let mut api = s.client();
    api.login("ba_dinh");
    let t = api.csrf.clone();
    let r = api.post_json(
        &format!("{API}/draft"),
        &doc("00004", [100, 50, 40, 4], None),
        Some(&t),
    );
    assert_eq!(r.status, 200);
    let form = "/f/test.commune_pupils/B01/00004/2025-08";
    let sessions = drive(
        &s,
        vec![
            serde_json::json!({"steps": [
                {"login": "ba_dinh", "password": PASSWORD},
                {"goto": form},
                {"value": "f-pupils.count"},
                {"value": "f-girls.count"},
                {"submit": true},
                {"fill": "f-girls.count", "value": "50"},
                {"submit": true},
                {"goto": "/r/test.commune_pupils?period=2025-08"},
            ]}),
            serde_json::json!({"steps": [
                {"login": "hanoi", "password": "wrong password"},
                {"login": "hanoi", "password": PASSWORD},
                {"goto": form},
                {"goto": "/r/test.commune_pupils?period=2025-08"},
                // The province returns the report with a reason.
                {"fill": "reason-00004-B01", "value": "Thiếu số lớp <b>chuyên</b>"},
                {"click": "return-00004-B01"},
            ]}),
            // The commune corrects it.
            serde_json::json!({"steps": [
                {"login": "ba_dinh", "password": PASSWORD},
                {"goto": form},
                {"value": "f-girls.count"},
                {"fill": "f-classes.count", "value": "5"},
                {"submit": true},
            ]}),
            // The province approves the correction.
            serde_json::json!({"steps": [
                {"login": "hanoi", "password": PASSWORD},
                {"goto": "/r/test.commune_pupils?period=2025-08"},
                {"click": "approve-00004-B01"},
            ]}),
            // The ministry sees the roll-up and who is late.
            serde_json::json!({"steps": [
                {"login": "bgddt", "password": PASSWORD},
                {"goto": "/r/test.commune_pupils?period=2025-08"},
            ]}),
        ],
    );
    let r = sessions[0]["results"].as_array().unwrap();
    assert_eq!(r[0]["url"], format!("{}/", s.base), "logged in, at home");
    assert_eq!(r[1]["status"], 200);
    assert_eq!(r[2]["value"], "100", "the draft is in the form");
    assert_eq!(r[3]["value"], "40");
    // The page refuses the error itself; nothing reaches the server.
    assert_eq!(r[4]["status"], "Chưa gửi được: còn lỗi.", "{:?}", r[4]);
    assert_eq!(r[4]["server"], "");
    assert!(!r[4]["errors"].as_array().unwrap().is_empty());
    // Fixed: the server stores it.
    assert!(
        r[5]["server"]
            .as_str()
            .unwrap()
            .starts_with("Đã gửi báo cáo"),
        "{:?}",
        r[5]
    );
    assert!(r[6]["text"].as_str().unwrap().contains("submitted"));

    assert_eq!(
        sessions[0]["console_errors"],
        serde_json::json!([]),
        "errors in the page"
    );
    // The province's refused login and form are the only failed loads.
    assert_eq!(
        sessions[1]["console_errors"],
        serde_json::json!([
            "Failed to load resource: the server responded with a status of 401 (Unauthorized)",
            "Failed to load resource: the server responded with a status of 403 (Forbidden)"
        ])
    );
    let p = sessions[1]["results"].as_array().unwrap();
    assert!(
        p[0]["url"].as_str().unwrap().ends_with("/login"),
        "a wrong password stays on the login page"
    );
    assert_eq!(p[1]["url"], format!("{}/", s.base));
    assert_eq!(
        p[2]["status"], 403,
        "the province does not fill in the commune's form"
    );
    let page = p[3]["text"].as_str().unwrap();
    assert!(
        page.contains("Phường Ba Đình") && page.contains("submitted"),
        "{page}"
    );
    assert_eq!(p[4]["status"], 200);
    assert!(
        p[4]["url"]
            .as_str()
            .unwrap()
            .ends_with("/r/test.commune_pupils?period=2025-08")
    );
    assert!(p[4]["text"].as_str().unwrap().contains("returned"));

    let c = sessions[2]["results"].as_array().unwrap();
    assert_eq!(c[2]["value"], "50", "the returned revision is in the form");
    assert!(
        c[3]["server"]
            .as_str()
            .unwrap()
            .starts_with("Đã gửi báo cáo"),
        "{:?}",
        c[3]
    );

    let a = sessions[3]["results"].as_array().unwrap();
    assert!(
        a[2]["text"].as_str().unwrap().contains("approved"),
        "{:?}",
        a[2]
    );

    let m = sessions[4]["results"].as_array().unwrap();
    let page = m[1]["text"].as_str().unwrap();
    assert!(page.contains("approved"), "{page}");
    assert!(
        page.contains("Phường Hồng Bàng") && page.contains("missing"),
        "{page}"
    );
    assert!(page.contains("trễ (late)"), "{page}");
    assert!(!page.contains("Duyệt"), "a viewer has no approve button");
    for s in &sessions[2..] {
        assert_eq!(s["console_errors"], serde_json::json!([]));
    }
    let rep = api.get(REPORT).json();
    assert_eq!(rep["status"], "approved");
    assert_eq!(rep["revision"], 3);
    assert_eq!(rep["records"]["0"]["classes.count"], "5");
    assert_eq!(rep["records"]["0"]["girls.count"], "50");
    let statuses: Vec<&str> = rep["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["draft", "returned", "approved"]);
    assert_eq!(rep["revisions"][1]["submitter"], "ba_dinh");
    assert_eq!(rep["decisions"][0]["action"], "returned");
    assert_eq!(
        rep["decisions"][0]["reason"], "Thiếu số lớp <b>chuyên</b>",
        "kept as typed"
    );
    assert_eq!(rep["decisions"][1]["action"], "approved");
    assert_eq!(rep["decisions"][1]["actor"], "hanoi");
}

#[test]
fn a_server_killed_during_submissions_leaves_no_half_written_report() {
    let users: Vec<(&str, &str, &str)> = vec![COMMUNE, ("hong_bang", "11311", "reporter")];
    let mut s = Server::start("kill", &users, &[]);
    let mut clients: Vec<(Client, &str)> = ["ba_dinh", "hong_bang"]
        .iter()
        .zip(["00004", "11311"])
        .map(|(u, unit)| {
            let mut c = s.client();
            c.login(u);
            (c, unit)
        })
        .collect();
    // Two communes correct their report again and again; the server is
    // killed (SIGKILL) while they do.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let stored = std::thread::scope(|sc| {
        let handles: Vec<_> = clients
            .iter_mut()
            .map(|(c, unit)| {
                let stop = &stop;
                sc.spawn(move || {
                    let t = c.csrf.clone();
                    let mut ok = 0;
                    for i in 1..10_000i64 {
                        if stop.load(std::sync::atomic::Ordering::Relaxed) {
                            break;
                        }
                        let body = doc(unit, [2 * i, i, i, 1], None).to_string();
                        let r = c
                            .agent
                            .post(format!("{}{API}/submit", c.base))
                            .header("Cookie", c.cookie_header())
                            .header("Content-Type", "application/json")
                            .header("X-CSRF-Token", &t)
                            .send(body);
                        match r {
                            Ok(r) if r.status() == 200 => ok += 1,
                            _ => break,
                        }
                    }
                    ok
                })
            })
            .collect();
        // Kill once a few revisions are in (however slow the machine), while
        // both communes are still sending.
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_secs(60) {
            let db = rusqlite::Connection::open(&s.db).unwrap();
            let n: i64 = db
                .query_row(r#"SELECT count(*) FROM "regc_submission""#, [], |r| {
                    r.get(0)
                })
                .unwrap_or(0);
            if n >= 6 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = s.child.kill();
        let _ = s.child.wait();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        handles.into_iter().map(|h| h.join().unwrap()).sum::<i64>()
    });
    assert!(stored > 0, "some submissions went through before the kill");
    let db = rusqlite::Connection::open(&s.db).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let n = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    let subs = n(r#"SELECT count(*) FROM "regc_submission""#);
    assert!(
        subs >= stored,
        "every answered submission is stored ({subs} < {stored})"
    );
    // Every revision has its values, and every value row its revision.
    assert_eq!(n(r#"SELECT count(*) FROM "test.commune_pupils.B01""#), subs);
    assert_eq!(
        n(
            r#"SELECT count(*) FROM "regc_submission" s WHERE NOT EXISTS (SELECT 1 FROM "test.commune_pupils.B01" t WHERE t."submission_id" = s."id")"#
        ),
        0
    );
    // Revisions are numbered 1..n without a gap, per commune.
    assert_eq!(
        n(
            r#"SELECT count(*) FROM (SELECT "unit" FROM "regc_submission" GROUP BY "unit" HAVING max("revision") <> count(*))"#
        ),
        0
    );
    // The values of each revision are the ones sent together (2i = i + i).
    assert_eq!(
        n(
            r#"SELECT count(*) FROM "test.commune_pupils.B01" WHERE "pupils.count" <> "boys.count" + "girls.count""#
        ),
        0
    );
    // A restarted server serves the same database.
    let mut child = regc()
        .args([
            "serve",
            s.lib.to_str().unwrap(),
            "--db",
            &format!("sqlite:{}", s.db.display()),
        ])
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening on"), "{line}");
    s.child = child;
}

#[test]
fn on_postgresql_the_same_campaign_works() {
    let Some(pg) = common::PgSchema::new("serve") else {
        return;
    };
    let users = [
        COMMUNE,
        ("hanoi", "01", "approver"),
        ("haiphong", "31", "approver"),
        ("bgddt", "BGDDT", "viewer"),
    ];
    let s = Server::start_on("pg", &users, &[], Some(&pg.url));
    let mut c = s.client();
    c.login("ba_dinh");
    let t = c.csrf.clone();
    let r = c.post_json(
        &format!("{API}/draft"),
        &doc("00004", [100, 50, 40, 4], None),
        Some(&t),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(c.get(REPORT).json()["records"]["0"]["girls.count"], "40");
    let r = c.post_json(
        &format!("{API}/submit"),
        &doc("00004", [100, 50, 40, 4], None),
        Some(&t),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    let r = c.post_json(
        &format!("{API}/submit"),
        &doc("00004", [100, 30, 70, 4], Some("Trường nữ sinh")),
        Some(&t),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let mut other = s.client();
    other.login("haiphong");
    assert_eq!(other.get(REPORT).status, 404);
    let mut hanoi = s.client();
    hanoi.login("hanoi");
    let th = hanoi.csrf.clone();
    let r = hanoi.post_json(
        &format!("{REPORT}/approve"),
        &serde_json::json!({"revision": 2}),
        Some(&th),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let rep = c.get(REPORT).json();
    assert_eq!(rep["status"], "approved");
    assert_eq!(rep["decisions"][0]["actor"], "hanoi");
    assert_eq!(
        rep["revisions"][1]["violations"][0]["explanation"],
        "Trường nữ sinh"
    );
    let mut bgddt = s.client();
    bgddt.login("bgddt");
    let roll = bgddt.get(&format!("{API}/rollup?period=2025-08"));
    assert_eq!(roll.status, 200, "{}", roll.body);
    assert!(roll.body.contains("\"VN\""), "{}", roll.body);
    let exp = bgddt.get(&format!("{API}/expected?period=2025-08")).json();
    assert_eq!(exp["expected"].as_array().unwrap().len(), 2);
    // The sessions are in PostgreSQL: an expired one is refused.
    pg.client()
        .batch_execute(r#"UPDATE "regc_session" SET "expires_at" = '2000-01-01T00:00:00Z'"#)
        .unwrap();
    assert_eq!(c.get("/api/session").status, 401);
}
