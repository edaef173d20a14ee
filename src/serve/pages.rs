//! The server's pages: minijinja templates with HTML autoescaping on for
//! every template, so that a label, a value or a message is always text.
//! The pages load nothing from elsewhere (one stylesheet served by the
//! server) and work without script, except the forms, which run the
//! generated form script.

use minijinja::{AutoEscape, Environment};

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    ("home.html", include_str!("templates/home.html")),
    ("message.html", include_str!("templates/message.html")),
    ("regime.html", include_str!("templates/regime.html")),
];

/// The stylesheet of the server's pages.
pub const CSS: &str = include_str!("templates/serve.css");

/// What every response of the server sends: no framing, no sniffing, no
/// referrer, and nothing loaded from elsewhere.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn environment() -> Result<Environment<'static>, String> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    for (name, text) in TEMPLATES {
        env.add_template(name, text).map_err(|e| e.to_string())?;
    }
    Ok(env)
}

pub fn render(
    env: &Environment<'static>,
    name: &str,
    ctx: minijinja::Value,
) -> Result<String, String> {
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| format!("{name}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_escapes() {
        let env = environment().expect("the templates parse");
        let page = render(
            &env,
            "message.html",
            minijinja::context! {
                title => "<script>alert(1)</script>",
                message => "\"><img src=x onerror=alert(1)>",
            },
        )
        .expect("renders");
        assert!(!page.contains("<script>alert"));
        assert!(!page.contains("<img src=x"));
        assert!(page.contains("&lt;script&gt;"));
    }
}
