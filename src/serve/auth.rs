//! Accounts: passwords (argon2id, salted, in PHC strings), session and
//! CSRF tokens (256 random bits from the OS), the session cookie, and the
//! login rate limiter.
//!
//! A session is a random token in an `HttpOnly; SameSite=Strict; Secure`
//! cookie; the database keeps only its SHA-256, so a copy of the database
//! opens no session. Each session has its own CSRF token, given in every
//! page's forms (a hidden `csrf` field) and to API clients (`GET
//! /api/session`), and required on every POST (the field, or the
//! `X-CSRF-Token` header), compared in constant time.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The session cookie's name.
pub const COOKIE: &str = "regc_session";
/// The cookie that carries the login form's token before a session exists.
pub const LOGIN_COOKIE: &str = "regc_login";

pub const ROLES: &[&str] = &["reporter", "approver", "viewer", "admin"];

/// 256 random bits, hex.
pub fn token() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness from the OS: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// What the database keeps of a session token.
pub fn token_hash(token: &str) -> String {
    crate::emit::manifest::sha256(token.as_bytes())
}

/// A PHC string of argon2id with a random salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| format!("no randomness from the OS: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash to verify against when the user does not exist, so that a
/// login takes as long for an unknown name as for a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy").unwrap_or_default())
}

/// Equal strings, in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `Set-Cookie` value for a cookie (`max_age` 0 deletes it).
pub fn set_cookie(name: &str, value: &str, max_age: u64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// Failed logins allowed per key (a user name, a client address) in a
/// window; past that the key is refused until the window has moved on.
pub struct Limiter {
    pub max: usize,
    pub window: Duration,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl Limiter {
    pub fn new(max: usize, window: Duration) -> Limiter {
        Limiter {
            max,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` may try now.
    pub fn allows(&self, key: &str) -> bool {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let window = self.window;
        match map.get_mut(key) {
            Some(times) => {
                times.retain(|t| now.duration_since(*t) < window);
                times.len() < self.max
            }
            None => true,
        }
    }

    pub fn failed(&self, key: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded memory under a flood of names: forget the oldest keys.
        if map.len() > 100_000 {
            let now = Instant::now();
            let window = self.window;
            map.retain(|_, t| t.last().is_some_and(|l| now.duration_since(*l) < window));
        }
        map.entry(key.to_string()).or_default().push(Instant::now());
    }

    pub fn succeeded(&self, key: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("mật khẩu").expect("hashing works");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("mật khẩu", &h));
        assert!(!verify_password("mat khau", &h));
        assert!(!verify_password("mật khẩu", "not a hash"));
        assert_ne!(h, hash_password("mật khẩu").expect("hashing works"));
    }

    #[test]
    fn tokens_are_random_and_hex() {
        let (a, b) = (token().expect("random"), token().expect("random"));
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn cookies_are_found_by_name() {
        let h = "a=1; regc_session=abc; regc_sessionx=no";
        assert_eq!(cookie(h, COOKIE), Some("abc"));
        assert_eq!(cookie(h, "b"), None);
        let c = set_cookie(COOKIE, "t", 60, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.ends_with("Secure"));
    }

    #[test]
    fn limiter_refuses_after_max_failures() {
        let l = Limiter::new(2, Duration::from_secs(60));
        assert!(l.allows("u"));
        l.failed("u");
        assert!(l.allows("u"));
        l.failed("u");
        assert!(!l.allows("u"));
        assert!(l.allows("v"));
        l.succeeded("u");
        assert!(l.allows("u"));
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
