//! `affinity-lens`: look things up in Affinity from a terminal, and run the sandbox.

mod account_file;
mod index_cmd;

use std::process::ExitCode;

use affinity_api::{Client, ClientConfig};
use affinity_sandbox::{Sandbox, SandboxConfig};
use clap::{Args, Parser, Subcommand};
use lens_core::{Card, CardStatus, LensClient, PageError, Query, QueryKind, lookup_card, resolve_page};

#[derive(Parser)]
#[command(name = "affinity-lens", version, about = "Affinity CRM knowledge for the thing you are looking at")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show the card for a domain, a URL or an email address.
    Card {
        /// `acme.com`, `https://www.acme.com/about` or `jane@acme.com`.
        target: String,
        /// Print exactly the Card JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Show who the API key belongs to.
    Whoami {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Show the rate-limit budget: this minute's and this month's.
    Usage {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Run the Affinity-compatible sandbox API (v1, and every operation of v2's 2026-07-15
    /// subset) on loopback.
    #[command(after_long_help = affinity_sandbox::NOT_SERVED_HELP)]
    Sandbox(SandboxArgs),
    /// Serve cards to `<affinity-card>` on intranet pages, keeping the key on the server.
    Gateway(Box<GatewayArgs>),
    /// The index of the firm's companies on this machine: sync, status, lookup (no call).
    Index(index_cmd::IndexArgs),
}

/// The gateway's flags. Callers must be identified: give `--client-token-file`, or
/// `--trusted-user-header` with `--trusted-proxy`, or (a loopback demo only) `--no-auth`.
#[derive(Args)]
struct GatewayArgs {
    /// Address to listen on, e.g. 127.0.0.1:8790.
    #[arg(long, default_value = "127.0.0.1:8790")]
    listen: String,
    /// A host name (with its port, unless 80/443) under which callers reach the gateway,
    /// e.g. lens.intranet.example (repeatable). Other Host headers get 421.
    #[arg(long = "public-host", value_name = "HOST")]
    public_hosts: Vec<String>,
    /// An origin whose pages may call the gateway, e.g. https://intranet.example (repeatable).
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allow_origins: Vec<String>,
    /// A file of client tokens, one a line: callers send one as `Authorization: Bearer <token>`.
    #[arg(long, value_name = "FILE")]
    client_token_file: Option<std::path::PathBuf>,
    /// The header in which the firm's SSO proxy names the user, e.g. X-Forwarded-Email.
    #[arg(long, value_name = "NAME", requires = "trusted_proxies")]
    trusted_user_header: Option<String>,
    /// An address of the SSO proxy, whose user header is believed (repeatable).
    #[arg(long = "trusted-proxy", value_name = "IP")]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// No caller identity needed: only for a demo on a loopback address, and never beside
    /// another way of identifying callers.
    #[arg(long, conflicts_with_all = ["client_token_file", "trusted_user_header", "trusted_proxies"])]
    no_auth: bool,
    /// Cold look-ups (not answered from the card cache) one caller may start a minute.
    #[arg(long, default_value_t = 60)]
    caller_per_min: u32,
    /// Affinity calls one caller's look-ups may make a minute (shared by the replicas with
    /// Redis): no caller can take the key's per-minute budget.
    #[arg(long, default_value_t = 300)]
    caller_calls_per_min: u32,
    /// Below this share of the month's Affinity budget (percent), serve cached cards only.
    #[arg(long, default_value_t = 10.0)]
    reserve_percent: f64,
    /// A list that is not public in Affinity but may show on cards (repeatable).
    #[arg(long = "show-list", value_name = "NAME")]
    show_lists: Vec<String>,
    /// The longest a card may take, in seconds; then a partial card is answered.
    #[arg(long, default_value_t = 8.0)]
    card_deadline_secs: f64,
    /// Seconds a connection has to send a request head (also the idle keep-alive limit).
    #[arg(long, default_value_t = 10.0)]
    header_timeout_secs: f64,
    /// Connections open at once.
    #[arg(long, default_value_t = 1024)]
    max_connections: usize,
    /// Connections open at once from one address (the trusted proxies excepted).
    #[arg(long, default_value_t = 64)]
    max_connections_per_ip: usize,
    /// Live streams (`/affinity/events`) open at once, apart from the connections.
    #[arg(long, default_value_t = 512)]
    max_streams: usize,
    /// Live streams one caller may hold open.
    #[arg(long, default_value_t = 4)]
    max_streams_per_caller: usize,
    /// MiB of Affinity answers to keep in memory.
    #[arg(long, default_value_t = 64)]
    cache_mib: usize,
    /// Affinity's per-minute limit for the key.
    #[arg(long, default_value_t = 900)]
    rate_limit_per_min: u32,
    /// Redis shared by every replica (cache, rate-limit window, budget, locks), e.g.
    /// rediss://:PASSWORD@redis.intranet.example:6380/0 (TLS), or redis://127.0.0.1:6379/0.
    /// On another host it needs TLS and a password, unless --redis-insecure.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// A PEM file of the CA that signed Redis's certificate (rediss:// with a private CA).
    #[arg(long, value_name = "FILE", requires = "redis")]
    redis_ca_file: Option<std::path::PathBuf>,
    /// A file holding Redis's password (AUTH), so that it is not on the command line; the
    /// URL may still name an ACL user (rediss://USER@HOST/0).
    #[arg(long, value_name = "FILE", requires = "redis")]
    redis_password_file: Option<std::path::PathBuf>,
    /// Accept a Redis on another host without TLS or without a password (a private network
    /// the firm trusts).
    #[arg(long, requires = "redis")]
    redis_insecure: bool,
    /// The gateway's public base URL, at which Affinity delivers its webhooks
    /// (`URL/affinity/webhook/SECRET`), e.g. https://lens.intranet.example.
    #[arg(long, value_name = "URL", requires = "webhook_secret_file")]
    public_url: Option<String>,
    /// A file holding the secret in the webhook URL (at least 24 characters).
    #[arg(long, value_name = "FILE", requires = "public_url")]
    webhook_secret_file: Option<std::path::PathBuf>,
    /// Seconds a card (and an Affinity answer) is served without asking again: 300 by
    /// default, 3600 with webhooks (they drop what changes at once).
    #[arg(long)]
    card_ttl_secs: Option<f64>,
    #[command(flatten)]
    api: ApiArgs,
}

impl GatewayArgs {
    async fn run(self) -> Result<(), String> {
        use lens_gateway::gateway::{CallerAuth, Gateway, GatewayConfig};
        let client = self.api.client()?;
        for origin in &self.allow_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://")) || origin.ends_with('/') {
                return Err(format!("--allow-origin wants an origin like https://intranet.example, got {origin:?}"));
            }
        }
        let seconds = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 && v <= 3600.0 {
                Ok(std::time::Duration::from_secs_f64(v))
            } else {
                Err(format!("--{name} must be a number of seconds between 0 and 3600, got {v}"))
            }
        };
        if !(0.0..=100.0).contains(&self.reserve_percent) {
            return Err(format!("--reserve-percent must be between 0 and 100, got {}", self.reserve_percent));
        }
        let listener = tokio::net::TcpListener::bind(&self.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", self.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;

        let mut auth = CallerAuth { trusted_proxies: self.trusted_proxies.clone(), ..CallerAuth::default() };
        if let Some(path) = &self.client_token_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the client token file {}: {e}", path.display()))?;
            // A line: a token, then the origins whose pages may use it (none: any, or none).
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
                let mut words = line.split_whitespace();
                let token = words.next().unwrap_or_default().to_owned();
                let origins: Vec<String> = words.map(String::from).collect();
                if let Some(bad) = origins.iter().find(|o| !(o.starts_with("https://") || o.starts_with("http://"))) {
                    return Err(format!("{}: {bad:?} is not an origin like https://intranet.example", path.display()));
                }
                auth.tokens.push(token);
                auth.token_origins.push(origins);
            }
            if auth.tokens.is_empty() {
                return Err(format!("{} holds no client token", path.display()));
            }
            if let Some(short) = auth.tokens.iter().position(|t| t.len() < 16) {
                return Err(format!("client token {} in {} is shorter than 16 characters", short + 1, path.display()));
            }
        }
        if let Some(name) = &self.trusted_user_header {
            auth.trusted_user_header = Some(
                name.parse::<lens_gateway::gateway::HeaderName>()
                    .map_err(|_| format!("{name:?} is not a header name"))?,
            );
        }
        if self.no_auth {
            // (clap refuses it beside a token file or a trusted header.)
            if !addr.ip().is_loopback() {
                return Err("--no-auth is only for a demo on a loopback address (127.0.0.1 or ::1)".into());
            }
            auth.no_auth = true;
            eprintln!(
                "gateway: WARNING: --no-auth: anyone who can reach {addr} can look things up with the firm's key. For a demo on this machine only."
            );
        } else if auth.tokens.is_empty() && auth.trusted_user_header.is_none() {
            return Err("the gateway needs to know who is asking: give --client-token-file FILE, or --trusted-user-header NAME with --trusted-proxy IP (or --no-auth for a loopback demo)".into());
        }

        let mut config = GatewayConfig::new(&client.config().base_url, &client.config().api_key, addr);
        config.public_hosts = self.public_hosts;
        config.allow_origins = self.allow_origins;
        config.auth = auth;
        config.caller_per_min = self.caller_per_min.max(1);
        config.caller_calls_per_min = self.caller_calls_per_min.max(1);
        config.reserve_percent = self.reserve_percent;
        config.show_lists = self.show_lists;
        config.card_deadline = seconds("card-deadline-secs", self.card_deadline_secs)?;
        config.header_timeout = seconds("header-timeout-secs", self.header_timeout_secs)?;
        config.max_connections = self.max_connections.max(1);
        config.max_connections_per_ip = self.max_connections_per_ip.max(1);
        config.max_streams = self.max_streams.max(1);
        config.max_streams_per_caller = self.max_streams_per_caller.max(1);
        config.cache_bytes = self.cache_mib.max(1) << 20;
        config.rate_limit_per_min = self.rate_limit_per_min.max(1);
        if let (Some(public_url), Some(path)) = (&self.public_url, &self.webhook_secret_file) {
            // Affinity delivers its events (and the secret in the URL) there: never in clear,
            // but for a gateway and a sandbox on this machine.
            secure_url_check(public_url, "--public-url", "Affinity sends the webhook secret in it")?;
            let secret = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the webhook secret file {}: {e}", path.display()))?
                .trim()
                .to_owned();
            if secret.len() < 24 || !secret.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                return Err(format!(
                    "the webhook secret in {} must be at least 24 letters, digits, - or _",
                    path.display()
                ));
            }
            config.webhook = Some(lens_gateway::gateway::WebhookConfig { public_url: public_url.clone(), secret });
        }
        let ttl = self.card_ttl_secs.unwrap_or(if config.webhook.is_some() { 3600.0 } else { 300.0 });
        config.card_fresh_for = seconds("card-ttl-secs", ttl)?;
        if let Some(url) = &self.redis {
            let password = match &self.redis_password_file {
                Some(path) => Some(
                    std::fs::read_to_string(path)
                        .map_err(|e| format!("cannot read the Redis password file {}: {e}", path.display()))?
                        .trim_end_matches(['\n', '\r'])
                        .to_owned(),
                ),
                None => None,
            };
            let ca_pem = match &self.redis_ca_file {
                Some(path) => Some(
                    std::fs::read(path)
                        .map_err(|e| format!("cannot read the Redis CA file {}: {e}", path.display()))?,
                ),
                None => None,
            };
            // What cards may show: gateways that differ keep their cards apart in Redis.
            let mut shown: Vec<String> = config.show_lists.iter().map(|l| l.to_ascii_lowercase()).collect();
            shown.sort();
            shown.dedup();
            let options = lens_gateway::shared_state::RedisOptions {
                visibility: shown.join("\n"),
                ca_pem,
                password,
                insecure: self.redis_insecure,
            };
            let state = lens_gateway::shared_state::RedisState::start(
                url,
                &config.base_url,
                &config.api_key,
                config.rate_limit_per_min,
                options,
            )
            .await?;
            config.redis = Some(state);
        }
        let gateway = Gateway::new(config);
        gateway.prepare().await;
        println!("listening on http://{addr}");
        // Affinity checks the webhook URL when subscribing: subscribe once serving.
        let subscriber = gateway.clone();
        tokio::spawn(async move { subscriber.subscribe_webhooks().await });
        gateway.serve(listener).await.map_err(|e| e.to_string())
    }
}

#[derive(Args)]
struct SandboxArgs {
    /// Port to listen on (127.0.0.1); 0 picks a free one.
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// The API key the sandbox accepts.
    #[arg(long, default_value = "sandbox-key")]
    key: String,
    /// A second key that may read but gets 403 on writes and private lists.
    #[arg(long)]
    read_only_key: Option<String>,
    /// Seed of the generated world: the same seed gives the same world.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Load the world from this JSON file instead of generating it.
    #[arg(long, conflicts_with_all = ["seed", "orgs", "lists"])]
    data: Option<std::path::PathBuf>,
    /// Organizations in the generated world (the default world's 5,000 first; lists grow
    /// with the square root).
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(12..=1_000_000))]
    orgs: u64,
    /// Lists in the generated world (8, or more organization lists).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(8..=100))]
    lists: u64,
    /// Write the world to this JSON file (then keep serving).
    #[arg(long)]
    dump: Option<std::path::PathBuf>,
    /// Requests a minute per key before 429.
    #[arg(long, default_value_t = 900)]
    rate_limit_per_min: u32,
    /// Requests a month for the account before 429 (unlimited when absent).
    #[arg(long)]
    monthly_budget: Option<u64>,
    /// Webhook subscriptions may call other machines (by default only this one's addresses).
    #[arg(long)]
    remote_webhooks: bool,
    /// How long the sandbox's month lasts, in seconds (then its counts start again); two
    /// weeks, never reset, when absent.
    #[arg(long)]
    month_secs: Option<u64>,
    /// Delay added to every answer.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Share of requests (0.0 to 1.0) answered with --fail-status.
    #[arg(long, default_value_t = 0.0)]
    fail_rate: f64,
    /// Status of injected failures.
    #[arg(long, default_value_t = 503)]
    fail_status: u16,
    /// Make one endpoint misbehave: PATH=malformed, PATH=hang or PATH=STATUS (repeatable).
    #[arg(long = "fault", value_name = "PATH=KIND")]
    faults: Vec<String>,
    /// API v2 answers 403 to every key (an account whose keys lack the v2 permissions).
    #[arg(long)]
    v2_forbidden: bool,
    /// A second key with full v1 rights that gets 403 on every v2 endpoint.
    #[arg(long)]
    v1_only_key: Option<String>,
}

impl SandboxArgs {
    async fn run(self) -> Result<(), String> {
        use affinity_sandbox::{Faults, World, seed};
        if !(0.0..=1.0).contains(&self.fail_rate) {
            return Err(format!("--fail-rate must be between 0 and 1, got {}", self.fail_rate));
        }
        let mut faults = Faults {
            latency_ms: self.latency_ms,
            fail_rate: self.fail_rate,
            fail_status: Some(self.fail_status),
            ..Faults::default()
        };
        for spec in &self.faults {
            let (path, fault) = Faults::parse_endpoint_fault(spec)?;
            faults.endpoints.insert(path, fault);
        }
        let world = match &self.data {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                World::from_json(&text).map_err(|e| format!("{} is not a sandbox world: {e}", path.display()))?
            }
            None => seed::generate_sized(
                self.seed,
                seed::Size { organizations: self.orgs as usize, lists: self.lists as usize },
            ),
        };
        if let Some(path) = &self.dump {
            let json = serde_json::to_string(&world).map_err(|e| e.to_string())?;
            std::fs::write(path, json).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        let config = SandboxConfig {
            api_key: self.key,
            read_only_key: self.read_only_key,
            rate_limit_per_min: self.rate_limit_per_min.max(1),
            monthly_budget: self.monthly_budget,
            month_secs: self.month_secs,
            remote_webhooks: self.remote_webhooks,
            faults,
            v2_forbidden: self.v2_forbidden,
            v1_only_key: self.v1_only_key,
        };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", self.port))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        println!("listening on http://{addr}");
        Sandbox::with_world(config, world).serve(listener).await.map_err(|e| e.to_string())
    }
}

#[derive(Args)]
struct ApiArgs {
    /// Affinity's base URL (or the sandbox's).
    #[arg(long, env = "AFFINITY_BASE_URL", default_value = "https://api.affinity.co")]
    base_url: String,
    /// A file holding the API key (otherwise AFFINITY_API_KEY).
    #[arg(long)]
    key_file: Option<std::path::PathBuf>,
}

impl ApiArgs {
    /// The API key, from the key file or `AFFINITY_API_KEY`.
    fn key(&self) -> Result<String, String> {
        let key = match &self.key_file {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the key file {}: {e}", path.display()))?
                .trim()
                .to_owned(),
            None => std::env::var("AFFINITY_API_KEY")
                .map_err(|_| "no API key: set AFFINITY_API_KEY or pass --key-file".to_owned())?,
        };
        if key.is_empty() {
            return Err("the API key is empty".into());
        }
        Ok(key)
    }

    fn client(&self) -> Result<LensClient, String> {
        let key = self.key()?;
        url_check(&self.base_url)?;
        // What is known of the account from earlier runs: v2 capabilities, the context.
        let account = std::sync::Arc::new(account_file::load(&self.base_url, &key));
        let config = ClientConfig::new(&self.base_url, key);
        Ok(LensClient::new(Client::builder(config, affinity_api::DefaultTransport::new()), account))
    }
}

/// Keeps what this run learnt of the account (and the calls it spent) for the next one.
fn remember(client: &LensClient) {
    let config = client.config();
    if let Err(e) = account_file::save(&config.base_url, &config.api_key, client.account()) {
        eprintln!("affinity-lens: note: cannot write the account cache: {e}");
    }
}

fn url_check(base_url: &str) -> Result<(), String> {
    secure_url_check(base_url, "--base-url", "the API key travels with every request")
}

/// `url` is `https://`, or `http://` on this machine (`localhost`, `*.localhost`, a loopback
/// address): what travels to it (`why`) never crosses a network in clear.
fn secure_url_check(url: &str, flag: &str, why: &str) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://").filter(|(s, r)| matches!(*s, "http" | "https") && !r.is_empty())
    else {
        return Err(format!("{flag} must be an http(s) URL, got {url:?}"));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => authority,
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let loopback = host == "localhost"
        || host.ends_with(".localhost")
        || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if scheme == "http" && !loopback {
        return Err(format!("{flag} must be https ({why}) unless it is this machine, got {url:?}"));
    }
    Ok(())
}

/// Turns what the user typed into a query.
fn parse_target(target: &str) -> Result<Query, String> {
    let t = target.trim();
    if t.contains('@') && !t.contains('/') {
        let email = t.to_lowercase();
        return match email.split_once('@') {
            Some((user, domain)) if !user.is_empty() && domain.contains('.') => {
                Ok(Query { kind: QueryKind::Email, value: email })
            }
            _ => Err(format!("{t:?} is not an email address")),
        };
    }
    let url = if t.contains("://") { t.to_owned() } else { format!("https://{t}") };
    match resolve_page(&url, &[]) {
        Ok(q) => Ok(q),
        Err(PageError::Ignored(q)) => Ok(q),
        Err(PageError::Unsupported(_)) => Err(format!("{t:?} is not a domain, URL or email address")),
    }
}

fn print_card(card: &Card) {
    match card.status {
        CardStatus::Matched => {
            let e = card.entity.as_ref().expect("a matched card has an entity");
            println!("{} (id {})", e.name, e.id);
            if !e.domains.is_empty() {
                println!("  domains: {}", e.domains.join(", "));
            }
            if !e.emails.is_empty() {
                println!("  emails: {}", e.emails.join(", "));
            }
            if let Some(url) = &e.affinity_url {
                println!("  {url}");
            }
            if let Some(f) = &card.firmographics {
                println!("  {}", lens_core::firmographics::summary(f));
            }
            if !card.connections.is_empty() {
                println!("Connections:");
                for c in &card.connections {
                    println!("  {} knows {}: {:.2}", c.colleague.name, c.contact.name, c.strength);
                }
            }
            if let (Some(checked), Some(total)) = (card.people_checked, card.people_total)
                && checked < total
            {
                println!("  (connections from {checked} of {total} people: those most recently in touch)");
            }
            if !card.lists.is_empty() {
                println!("Lists:");
                for l in &card.lists {
                    let status = l.status.as_ref().map(|s| s.text.as_str()).unwrap_or("no status");
                    let since = l
                        .status_since
                        .as_deref()
                        .map(|d| format!(" since {}", &d[..d.len().min(10)]))
                        .unwrap_or_default();
                    let owners: Vec<&str> = l.owners.iter().map(|o| o.name.as_str()).collect();
                    let amount = l.amount.map(|a| format!(", amount {a:.0}")).unwrap_or_default();
                    let owners =
                        if owners.is_empty() { String::new() } else { format!(", owners {}", owners.join(" & ")) };
                    println!("  {}: {status}{since}{owners}{amount}", l.list_name);
                }
            }
            print_fields(card);
            let a = &card.activity;
            if [&a.last_email, &a.last_event, &a.next_event, &a.last_interaction].iter().any(|i| i.is_some()) {
                println!("Activity:");
            }
            for (label, item) in [
                ("last email", &a.last_email),
                ("last meeting", &a.last_event),
                ("next meeting", &a.next_event),
                ("last interaction", &a.last_interaction),
            ] {
                if let Some(i) = item {
                    let who: Vec<&str> = i.people.iter().map(|p| p.name.as_str()).collect();
                    let who = if who.is_empty() { String::new() } else { format!(" ({})", who.join(", ")) };
                    println!("  {label}: {}{who}", &i.date[..i.date.len().min(10)]);
                }
            }
            for o in &card.opportunities {
                println!(
                    "Opportunity: {} [{}] {}",
                    o.name,
                    o.list_name.as_deref().unwrap_or("-"),
                    match (&o.status, o.status_skipped) {
                        (Some(s), _) => s.as_str(),
                        (None, true) => "(Status in Affinity)",
                        (None, false) => "",
                    }
                );
            }
            print_notes(card);
        }
        CardStatus::Ambiguous => {
            println!("{} matches several records:", card.query.value);
            for c in &card.candidates {
                println!("  {} (id {}) {}", c.name, c.id, c.domains.join(", "));
            }
        }
        CardStatus::NotFound if card.source == lens_core::card::CardSource::Index => {
            println!("{}: not in Affinity (from the index as of {}, no call)", card.query.value, card.fetched_at)
        }
        CardStatus::NotFound => println!("{}: not in Affinity", card.query.value),
        CardStatus::Ignored => println!("{}: never looked up", card.query.value),
        CardStatus::Error => {}
    }
}

/// Every field of each list entry (the opened card's): "  Amount: 5000", a list's name first.
fn print_fields(card: &Card) {
    for entry in &card.fields {
        let list = card.lists.iter().find(|l| l.entry_id == entry.entry_id);
        let name = list.map_or_else(|| format!("List {}", entry.list_id), |l| l.list_name.clone());
        println!("Fields ({name}):");
        for f in &entry.fields {
            let lock = if f.editable { "" } else { " (read-only)" };
            let text = lens_core::fields::value_text(&f.value_type, &f.value, &|n| format!("{n}"));
            println!("  {}: {}{lock}", f.name, if text.is_empty() { "-" } else { &text });
        }
    }
}

/// The latest notes: date and author, then their first lines.
fn print_notes(card: &Card) {
    if card.notes.is_empty() {
        return;
    }
    println!("Notes:");
    for n in &card.notes {
        let date = n.created_at.as_deref().map_or("", |d| &d[..d.len().min(10)]);
        let author = n.author.as_ref().map_or("someone", |a| a.name.as_str());
        println!("  {date} {author}:");
        for line in n.text.lines().take(3) {
            println!("    {line}");
        }
    }
    if let Some(url) = card.notes.first().and_then(|n| n.affinity_url.as_deref()) {
        println!("  (all notes: {url})");
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Card { target, json, api } => {
            let query = parse_target(&target)?;
            let client = api.client()?;
            let card = match index_cmd::answer_unknown(&api, &query)? {
                Some(card) => card,
                None => {
                    let card = lookup_card(&client, &query).await;
                    index_cmd::learn(&api, &client, &card);
                    card
                }
            };
            remember(&client);
            if json {
                println!("{}", serde_json::to_string_pretty(&card).expect("a card serialises"));
            } else {
                print_card(&card);
            }
            match card.error {
                Some(e) => Err(e.message),
                None => Ok(()),
            }
        }
        Command::Whoami { api } => {
            let client = api.client()?;
            let me = client.whoami().await;
            remember(&client);
            let me = me.map_err(|e| e.to_string())?;
            println!(
                "{} {} <{}> at {} ({}.affinity.co)",
                me.user.first_name,
                me.user.last_name,
                me.user.email.unwrap_or_default(),
                me.tenant.name,
                me.tenant.subdomain
            );
            Ok(())
        }
        Command::Usage { api } => {
            let client = api.client()?;
            let rate = client.rate_limit().await;
            remember(&client);
            let rate = rate.map_err(|e| e.to_string())?;
            let show = |v: affinity_api::models::RateLimitValue| match v {
                affinity_api::models::RateLimitValue::Limited(n) => n.to_string(),
                affinity_api::models::RateLimitValue::Unlimited => "unlimited".to_owned(),
            };
            let m = &rate.rate.api_key_per_minute;
            let o = &rate.rate.org_monthly;
            println!(
                "this minute: {} used, {} of {} left, resets in {}s",
                m.used,
                show(m.remaining),
                show(m.limit),
                m.reset
            );
            println!(
                "this month:  {} used, {} of {} left, resets in {}s",
                o.used,
                show(o.remaining),
                show(o.limit),
                o.reset
            );
            // What this machine's Lens spent of it (the extension keeps its own count).
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            let lens = client.account().usage(now.as_millis() as u64);
            let per_view = lens.calls_per_page_view().map(|a| format!("{a:.1}")).unwrap_or_else(|| "-".into());
            let share = match o.limit {
                affinity_api::models::RateLimitValue::Limited(n) if n > 0 => {
                    format!(", {:.2}% of the month's {n}", lens.calls as f64 * 100.0 / n as f64)
                }
                _ => String::new(),
            };
            println!(
                "the Lens:    {} calls this month{share} (this machine's CLI), {} page views and {} opened cards, {per_view} calls a page view",
                lens.calls, lens.page_views, lens.cards_opened
            );
            Ok(())
        }
        Command::Sandbox(args) => args.run().await,
        Command::Gateway(args) => args.run().await,
        Command::Index(args) => index_cmd::run(args).await,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("affinity-lens: {message}");
            ExitCode::FAILURE
        }
    }
}
