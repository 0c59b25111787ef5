//! The extension's settings: every default in one place, read leniently from storage (a
//! value of the wrong type falls back to its default), and checked when the options page
//! saves them. The base URL must be `https://` unless it is this computer: the key goes
//! in its `Authorization` header.

use lens_core::CardError;
use lens_core::ErrorKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Affinity's API.
pub const DEFAULT_BASE_URL: &str = "https://api.affinity.co";
/// Below this share (%) of the month's budget left, pages are looked up only on demand.
pub const DEFAULT_ON_DEMAND_BELOW: f64 = 5.0;
/// A site list holds at most this many sites, each at most this long.
const MAX_SITES: usize = 1000;
const MAX_SITE_LEN: usize = 253;

/// Where the user dragged the overlay: a side of the window and a distance from its top.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub side: Side,
    pub top: u32,
}

/// A side of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Left,
    Right,
}

/// Where cards come from: Affinity with the user's own key, or the firm's gateway (which
/// holds the firm's key; the extension then holds none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Personal,
    Team,
}

/// Everything the options page sets, with the overlay's place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// The Affinity API key; empty until the user gives one.
    pub api_key: String,
    /// Where Affinity is: `https://`, or `http://` on this computer only.
    pub base_url: String,
    /// Sites never looked up (besides the built-in ones).
    pub ignored: Vec<String>,
    /// Sites paused: looked up as never-look-up sites, and without the pill.
    pub paused: Vec<String>,
    /// Show the pill on pages (off: the toolbar button and its badge only).
    pub overlay: bool,
    /// Where the user put the overlay; `null`: bottom right.
    pub position: Option<Position>,
    /// Below this share (%) of the month's budget left, pages are looked up on demand only.
    pub on_demand_below: f64,
    /// Personal key, or team mode (cards from the firm's gateway).
    pub mode: Mode,
    /// Team mode: the gateway's base URL (`https://`, or `http://` on this computer).
    pub gateway_url: String,
    /// Team mode: the gateway's client token; empty: the browser's own session with the
    /// gateway (its cookies) is used.
    pub gateway_token: String,
    /// Badges on links to companies the index knows, on any page.
    pub badges: bool,
    /// Sites whose links get no badges.
    pub no_badges: Vec<String>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            api_key: String::new(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            ignored: Vec::new(),
            paused: Vec::new(),
            overlay: true,
            position: None,
            on_demand_below: DEFAULT_ON_DEMAND_BELOW,
            mode: Mode::Personal,
            gateway_url: String::new(),
            gateway_token: String::new(),
            badges: true,
            no_badges: Vec::new(),
        }
    }
}

/// What the options form sends to be saved: text as typed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SettingsForm {
    pub api_key: String,
    pub base_url: String,
    /// One site per line (or separated by spaces or commas), as typed.
    pub ignored: String,
    pub paused: String,
    pub overlay: bool,
    /// As typed: a number from 0 to 100.
    pub on_demand_below: String,
    /// `team`: cards from the firm's gateway; anything else: the personal key.
    pub mode: String,
    pub gateway_url: String,
    pub gateway_token: String,
    /// Badges on company links (absent: on).
    pub badges: Option<bool>,
    /// Sites without badges, one a line, as typed.
    pub no_badges: String,
}

impl Settings {
    /// Settings as stored (or as an older version stored them in `storage.local`, under the
    /// same names): each value of the wrong type, or missing, is its default.
    pub fn from_stored(value: &Value) -> Settings {
        let d = Settings::default();
        let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
        let sites = |k: &str| {
            value
                .get(k)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).take(MAX_SITES).collect())
                .unwrap_or_default()
        };
        Settings {
            api_key: text("apiKey").map(str::to_owned).unwrap_or(d.api_key),
            base_url: text("baseUrl").map(|u| u.trim_end_matches('/').to_owned()).unwrap_or(d.base_url),
            ignored: sites("ignored"),
            paused: sites("paused"),
            overlay: value.get("overlay").and_then(Value::as_bool).unwrap_or(d.overlay),
            position: value.get("position").and_then(|p| serde_json::from_value(p.clone()).ok()),
            on_demand_below: value
                .get("onDemandBelow")
                .and_then(Value::as_f64)
                .filter(|p| (0.0..=100.0).contains(p))
                .unwrap_or(d.on_demand_below),
            mode: value.get("mode").and_then(|m| serde_json::from_value(m.clone()).ok()).unwrap_or(d.mode),
            gateway_url: text("gatewayUrl").map(|u| u.trim_end_matches('/').to_owned()).unwrap_or(d.gateway_url),
            gateway_token: text("gatewayToken").map(str::to_owned).unwrap_or(d.gateway_token),
            badges: value.get("badges").and_then(Value::as_bool).unwrap_or(d.badges),
            no_badges: sites("noBadges"),
        }
    }

    /// What an older version left in `storage.local` (which content scripts can read), as
    /// settings to keep; `None` when it left no key and no setting. Never where the key
    /// goes: the base URL (and team mode's gateway) are the defaults, since anything in that
    /// storage may have been written by a compromised page.
    pub fn migrate(legacy: &Value) -> Option<Settings> {
        const KEYS: [&str; 6] = ["apiKey", "ignored", "paused", "overlay", "position", "onDemandBelow"];
        let mut kept = serde_json::Map::new();
        for k in KEYS {
            if let Some(v) = legacy.get(k) {
                kept.insert(k.to_owned(), v.clone());
            }
        }
        (!kept.is_empty()).then(|| Settings::from_stored(&Value::Object(kept)))
    }

    /// The options form, checked: the key and base URL trimmed, the base URL `https://`
    /// (or loopback), sites as registrable names, the budget share from 0 to 100. The
    /// overlay's place is kept from `self`.
    ///
    /// In team mode the gateway URL is required (and checked like the base URL) and the
    /// personal key is optional (it is only used for writes).
    pub fn with_form(&self, form: &SettingsForm) -> Result<Settings, CardError> {
        let api_key = form.api_key.trim().to_owned();
        let mode = if form.mode.trim() == "team" { Mode::Team } else { Mode::Personal };
        if api_key.is_empty() && mode == Mode::Personal {
            return Err(bad("Enter your Affinity API key (Affinity: Settings → API)."));
        }
        let (gateway_url, gateway_token) = match mode {
            Mode::Team => (check_gateway_url(&form.gateway_url)?, form.gateway_token.trim().to_owned()),
            Mode::Personal => (String::new(), String::new()),
        };
        let base_url = check_base_url(&form.base_url)?;
        let on_demand_below = match form.on_demand_below.trim() {
            "" => DEFAULT_ON_DEMAND_BELOW,
            s => s
                .parse::<f64>()
                .ok()
                .filter(|p| p.is_finite() && (0.0..=100.0).contains(p))
                .ok_or_else(|| bad("The budget share must be a number from 0 to 100."))?,
        };
        Ok(Settings {
            api_key,
            base_url,
            ignored: site_list(&form.ignored),
            paused: site_list(&form.paused),
            overlay: form.overlay,
            position: self.position,
            on_demand_below,
            mode,
            gateway_url,
            gateway_token,
            badges: form.badges.unwrap_or(self.badges),
            no_badges: site_list(&form.no_badges),
        })
    }

    /// The form that shows these settings.
    pub fn to_form(&self) -> SettingsForm {
        SettingsForm {
            api_key: self.api_key.clone(),
            base_url: self.base_url.clone(),
            ignored: self.ignored.join("\n"),
            paused: self.paused.join("\n"),
            overlay: self.overlay,
            on_demand_below: format_share(self.on_demand_below),
            mode: if self.mode == Mode::Team { "team" } else { "personal" }.to_owned(),
            gateway_url: self.gateway_url.clone(),
            gateway_token: self.gateway_token.clone(),
            badges: Some(self.badges),
            no_badges: self.no_badges.join("\n"),
        }
    }

    /// Whether links on `site` (a page's registrable domain) get badges: on in the options
    /// and for the site, and the site not paused (never-look-up sites are the caller's).
    pub fn badges_on(&self, site: &str) -> bool {
        self.badges && !self.no_badges.iter().any(|s| s == site) && !self.is_paused(site)
    }

    /// Team mode with a gateway: where cards come from instead of Affinity.
    pub fn gateway(&self) -> Option<&str> {
        (self.mode == Mode::Team && !self.gateway_url.is_empty()).then_some(self.gateway_url.as_str())
    }

    /// Whether the site (a registrable domain) is paused.
    pub fn is_paused(&self, site: &str) -> bool {
        self.paused.iter().any(|p| p == site)
    }

    /// These settings with `site` paused or resumed.
    pub fn with_paused(&self, site: &str, paused: bool) -> Settings {
        let mut next: Vec<String> = self.paused.iter().filter(|p| *p != site).cloned().collect();
        if paused {
            next.push(site.to_owned());
        }
        Settings { paused: next, ..self.clone() }
    }
}

fn bad(message: &str) -> CardError {
    CardError::new(ErrorKind::BadSettings, message)
}

fn format_share(p: f64) -> String {
    if p.fract() == 0.0 { format!("{p:.0}") } else { p.to_string() }
}

/// The base URL as the client uses it (no trailing slash), or why it is refused: only
/// `https://`, or `http://` to this computer (`localhost`, `127.0.0.0/8`, `[::1]`), so that
/// the key never travels in clear. Empty means Affinity's.
pub fn check_base_url(raw: &str) -> Result<String, CardError> {
    if raw.trim().is_empty() {
        return Ok(DEFAULT_BASE_URL.to_owned());
    }
    checked_url(raw, "base URL", "API key", DEFAULT_BASE_URL)
}

/// The gateway's base URL (no trailing slash), or why it is refused: required, and
/// `https://` unless it is this computer, like the base URL (the token travels in a header).
pub fn check_gateway_url(raw: &str) -> Result<String, CardError> {
    const EXAMPLE: &str = "https://lens-gateway.intranet.example";
    if raw.trim().is_empty() {
        return Err(bad(&format!("Enter the URL of your firm's gateway, like {EXAMPLE}.")));
    }
    checked_url(raw, "gateway URL", "token", EXAMPLE)
}

/// A URL that a `secret` is sent to, without its trailing slashes, or why it is refused
/// (the messages name it `name` and show `example`).
fn checked_url(raw: &str, name: &str, secret: &str, example: &str) -> Result<String, CardError> {
    let https = || bad(&format!("The {name} must be an https:// URL, like {example}."));
    let url = url::Url::parse(raw.trim()).map_err(|_| bad(&format!("The {name} must be a URL, like {example}.")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(bad(&format!(
                "The {name} must start with https:// (http:// only for this computer: localhost or 127.0.0.1), \
                 so that the {secret} is never sent in clear, like {example}."
            )));
        }
        _ => return Err(https()),
    }
    if url.host().is_none() || !url.username().is_empty() || url.password().is_some() {
        return Err(https());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(&format!("The {name} must not have a query (?) or a fragment (#).")));
    }
    Ok(url.to_string().trim_end_matches('/').to_owned())
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        None => false,
    }
}

/// A site list as typed: one per line (or separated by spaces or commas), each reduced to
/// its host without `www.`, lower case, without repeats.
pub fn site_list(typed: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in typed.split(|c: char| c.is_whitespace() || c == ',') {
        let site = site_of(item);
        if !site.is_empty() && site.len() <= MAX_SITE_LEN && !out.contains(&site) && out.len() < MAX_SITES {
            out.push(site);
        }
    }
    out
}

/// `https://www.Example.com/path` → `example.com`.
fn site_of(item: &str) -> String {
    let s = item.trim().to_ascii_lowercase();
    let s = s.split_once("://").map_or(s.as_str(), |(_, rest)| rest);
    let s = s.split(['/', '?', '#']).next().unwrap_or_default();
    let s = s.rsplit_once('@').map_or(s, |(_, host)| host);
    let s = s.split(':').next().unwrap_or_default();
    s.strip_prefix("www.").unwrap_or(s).trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_affinity_the_pill_on_and_five_percent() {
        let d = Settings::default();
        assert_eq!(d.base_url, "https://api.affinity.co");
        assert_eq!(d.api_key, "");
        assert!(d.overlay);
        assert_eq!(d.on_demand_below, 5.0);
        assert_eq!(d.position, None);
        assert!(d.ignored.is_empty() && d.paused.is_empty());
        // Nothing stored is the defaults; so is every value of the wrong type.
        assert_eq!(Settings::from_stored(&json!({})), d);
        let wrong = json!({"apiKey": 7, "baseUrl": "", "ignored": "x", "overlay": "no", "onDemandBelow": 400, "position": {"side": "up"}});
        assert_eq!(Settings::from_stored(&wrong), d);
    }

    #[test]
    fn stored_settings_read_back() {
        let s = Settings {
            api_key: "k".into(),
            base_url: "http://127.0.0.1:8787".into(),
            ignored: vec!["a.com".into()],
            paused: vec!["b.com".into()],
            overlay: false,
            position: Some(Position { side: Side::Left, top: 120 }),
            on_demand_below: 12.5,
            mode: Mode::Team,
            gateway_url: "https://lens.example".into(),
            gateway_token: "t".into(),
            badges: false,
            no_badges: vec!["news.example".into()],
        };
        assert_eq!(Settings::from_stored(&serde_json::to_value(&s).unwrap()), s);
        assert!(!s.badges_on("acme.com"));
        let on = Settings { badges: true, ..s };
        assert!(on.badges_on("acme.com") && !on.badges_on("news.example") && !on.badges_on("b.com"), "b.com is paused");
    }

    #[test]
    fn an_older_install_keeps_its_key_and_settings_but_not_where_the_key_goes() {
        let legacy = json!({"apiKey": "old-key", "baseUrl": "https://affinity-api.example/", "paused": ["x.com"],
            "mode": "team", "gatewayUrl": "https://gw.example", "lensState": "{}"});
        let s = Settings::migrate(&legacy).expect("migrated");
        assert_eq!(s.api_key, "old-key");
        assert_eq!(s.base_url, DEFAULT_BASE_URL, "the base URL is never migrated");
        assert_eq!((s.mode, s.gateway_url.as_str()), (Mode::Personal, ""));
        assert_eq!(s.paused, vec!["x.com".to_owned()]);
        assert_eq!(Settings::migrate(&json!({"baseUrl": "https://affinity-api.example"})), None);
        assert_eq!(Settings::migrate(&json!({})), None);
        assert_eq!(Settings::migrate(&json!({"lensState": "{}"})), None, "a cache alone is not settings");
    }

    #[test]
    fn the_base_url_is_https_unless_it_is_this_computer() {
        for ok in ["https://api.affinity.co", "https://api.affinity.co/", "https://eu.example.com:8443/v1"] {
            assert!(check_base_url(ok).is_ok(), "{ok}");
        }
        assert_eq!(check_base_url("  ").unwrap(), DEFAULT_BASE_URL);
        assert_eq!(check_base_url("https://api.affinity.co/").unwrap(), "https://api.affinity.co");
        for loopback in [
            "http://127.0.0.1:8787",
            "http://localhost:8787",
            "http://[::1]:8787",
            "http://127.1.2.3",
            "http://sandbox.localhost:1",
        ] {
            assert!(check_base_url(loopback).is_ok(), "{loopback}");
        }
        for refused in [
            "http://api.affinity.co",
            "http://10.0.0.5:8787",
            "http://127.0.0.1.evil.com",
            "ftp://api.affinity.co",
            "api.affinity.co",
            "https://user:pw@api.affinity.co",
            "https://api.affinity.co/?x=1",
        ] {
            let e = check_base_url(refused).unwrap_err();
            assert_eq!(e.kind, ErrorKind::BadSettings, "{refused}");
        }
        assert!(check_base_url("http://api.affinity.co").unwrap_err().message.contains("https://"));
    }

    #[test]
    fn the_form_is_checked_and_normalised() {
        let form = SettingsForm {
            api_key: "  key ".into(),
            base_url: "".into(),
            ignored: "https://www.Example.com/path\nfoo.org, foo.org bar.net:8080".into(),
            paused: "".into(),
            overlay: true,
            on_demand_below: "10".into(),
            ..SettingsForm::default()
        };
        let kept = Settings { position: Some(Position { side: Side::Right, top: 3 }), ..Settings::default() };
        let s = kept.with_form(&form).unwrap();
        assert_eq!(s.api_key, "key");
        assert_eq!(s.base_url, DEFAULT_BASE_URL);
        assert_eq!(s.ignored, vec!["example.com", "foo.org", "bar.net"]);
        assert_eq!(s.on_demand_below, 10.0);
        assert_eq!(s.position, kept.position, "the overlay's place is not the form's");
        assert_eq!(s.to_form().on_demand_below, "10");
        for (field, bad_form) in [
            ("key", SettingsForm { api_key: " ".into(), ..form.clone() }),
            ("share", SettingsForm { on_demand_below: "101".into(), ..form.clone() }),
            ("share", SettingsForm { on_demand_below: "many".into(), ..form.clone() }),
            ("url", SettingsForm { base_url: "http://example.com".into(), ..form.clone() }),
        ] {
            assert_eq!(kept.with_form(&bad_form).unwrap_err().kind, ErrorKind::BadSettings, "{field}");
        }
    }

    #[test]
    fn team_mode_needs_a_gateway_url_and_no_key() {
        let d = Settings::default();
        assert_eq!((d.mode, d.gateway(), d.gateway_token.as_str()), (Mode::Personal, None, ""));
        let form = SettingsForm {
            mode: "team".into(),
            gateway_url: " https://lens.intranet.example/ ".into(),
            gateway_token: " tok ".into(),
            ..SettingsForm::default()
        };
        let s = d.with_form(&form).unwrap();
        assert_eq!(
            (s.mode, s.gateway(), s.gateway_token.as_str(), s.api_key.as_str()),
            (Mode::Team, Some("https://lens.intranet.example"), "tok", "")
        );
        assert_eq!(s.with_form(&s.to_form()).unwrap(), s, "the form round-trips");
        // Without a token: the browser's session with the gateway.
        let no_token = d.with_form(&SettingsForm { gateway_token: "".into(), ..form.clone() }).unwrap();
        assert_eq!(no_token.gateway_token, "");
        assert!(d.with_form(&SettingsForm { gateway_url: "http://127.0.0.1:8790".into(), ..form.clone() }).is_ok());
        for refused in ["", "http://lens.intranet.example", "lens.intranet.example"] {
            let e = d.with_form(&SettingsForm { gateway_url: refused.into(), ..form.clone() }).unwrap_err();
            assert_eq!(e.kind, ErrorKind::BadSettings, "{refused}");
            assert!(e.message.contains("gateway"), "{}", e.message);
        }
        // Personal mode keeps no gateway and still needs its key.
        let personal =
            d.with_form(&SettingsForm { mode: "personal".into(), api_key: "k".into(), ..form.clone() }).unwrap();
        assert_eq!((personal.mode, personal.gateway()), (Mode::Personal, None));
        assert!(d.with_form(&SettingsForm { mode: "personal".into(), ..form }).is_err());
        assert_eq!(Settings::from_stored(&json!({"mode": "sideways"})).mode, Mode::Personal);
    }

    #[test]
    fn a_site_is_paused_and_resumed() {
        let s = Settings::default().with_paused("acme.com", true);
        assert!(s.is_paused("acme.com"));
        assert_eq!(s.with_paused("acme.com", true).paused.len(), 1);
        assert!(!s.with_paused("acme.com", false).is_paused("acme.com"));
    }
}
