//! The generated form pages, served: the form of a regime for one unit and
//! period, rendered by the form emitter (`emit::forms`) with the server's
//! version of its page template (the unit and period filled in, the stored
//! draft handed to the page, the submission sent to the server by
//! `serve-form.js` instead of downloaded). The rules the page checks are
//! the same data block, checked by the same `forms.js`.

use super::App;
use super::access;
use super::routes::Refusal;
use super::store::Session;
use crate::emit::forms;
use crate::ir;
use std::collections::BTreeMap;

/// The server's page template (`form.html` of the emitter, adapted).
const FORM_HTML: &str = include_str!("templates/form.html");
/// The page glue that talks to the server.
pub const SCRIPT: &str = include_str!("templates/serve-form.js");

/// The form page of `form` for `unit` and `period`, prefilled with the
/// values of the report's latest revision (a draft, a returned report).
pub fn page(
    app: &App,
    s: &Session,
    regime: &ir::Regime,
    form: &str,
    unit: &str,
    period: &str,
) -> Result<String, Refusal> {
    let Some(f) = regime.forms.iter().find(|f| f.code == form) else {
        return Err(Refusal::NotFound);
    };
    if !access::can_submit(&app.lib, regime, &s.user, unit) {
        return Err(
            if access::can_see(&app.store, &app.lib, regime, &s.user, unit)? {
                Refusal::Forbidden
            } else {
                Refusal::NotFound
            },
        );
    }
    let mut ctx = crate::submission::Context::new(&app.lib, regime);
    if ctx.period(period).is_none() {
        return Err(Refusal::NotFound);
    }
    let draft: BTreeMap<String, String> =
        match super::reports::report(app, &s.user, regime, form, unit, period) {
            Ok(j) => j
                .get("records")
                .and_then(|r| r.get("0"))
                .and_then(|r| serde_json::from_value(r.clone()).ok())
                .unwrap_or_default(),
            Err(Refusal::NotFound) => BTreeMap::new(),
            Err(e) => return Err(e),
        };
    let templates = forms::Templates::with_overrides(&BTreeMap::from([(
        "form.html".to_string(),
        FORM_HTML.to_string(),
    )]))?;
    let rules = forms::rules_data(&app.lib, regime, f)?;
    let html = forms::form_page(&app.lib, regime, f, &rules, &templates)?;
    let draft = serde_json::to_string(&draft)
        .map_err(|e| e.to_string())?
        .replace('<', "\\u003c");
    // The unit and period are a unit of the library and a period of the
    // calendar (checked above), the token hex; escaped all the same.
    Ok(html
        .replace("__REGC_CSRF__", &escape(&s.csrf))
        .replace("__REGC_UNIT__", &escape(unit))
        .replace("__REGC_PERIOD__", &escape(period))
        .replace("__REGC_DRAFT__", &draft))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
