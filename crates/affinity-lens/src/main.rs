//! `affinity-lens`: look things up in Affinity from a terminal, and run the sandbox.

use std::process::ExitCode;

use affinity_core::{Card, CardStatus, Client, ClientConfig, PageError, Query, QueryKind, lookup_card, resolve_page};
use affinity_server::sandbox::{Sandbox, SandboxConfig};
use clap::{Args, Parser, Subcommand};

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
    /// Run the Affinity-compatible sandbox API on loopback.
    Sandbox(SandboxArgs),
    /// Serve cards to `<affinity-card>` on intranet pages, keeping the key on the server.
    Gateway {
        /// Address to listen on, e.g. 127.0.0.1:8790.
        #[arg(long, default_value = "127.0.0.1:8790")]
        listen: String,
        /// An origin whose pages may call the gateway, e.g. https://intranet.example (repeatable).
        #[arg(long = "allow-origin", value_name = "ORIGIN")]
        allow_origins: Vec<String>,
        /// A token callers must send as `Authorization: Bearer <token>`.
        #[arg(long)]
        client_token: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
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
    #[arg(long, conflicts_with = "seed")]
    data: Option<std::path::PathBuf>,
    /// Write the world to this JSON file (then keep serving).
    #[arg(long)]
    dump: Option<std::path::PathBuf>,
    /// Requests a minute per key before 429.
    #[arg(long, default_value_t = 900)]
    rate_limit_per_min: u32,
    /// Requests a month for the account before 429 (unlimited when absent).
    #[arg(long)]
    monthly_budget: Option<u64>,
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
}

impl SandboxArgs {
    async fn run(self) -> Result<(), String> {
        use affinity_server::sandbox::{Faults, World, seed};
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
            None => seed::generate(self.seed),
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
            faults,
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
    fn client(&self) -> Result<Client, String> {
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
        url_check(&self.base_url)?;
        Ok(Client::new(ClientConfig::new(&self.base_url, key)))
    }
}

fn url_check(base_url: &str) -> Result<(), String> {
    match base_url.split_once("://") {
        Some(("http" | "https", rest)) if !rest.is_empty() => Ok(()),
        _ => Err(format!("--base-url must be an http(s) URL, got {base_url:?}")),
    }
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
                    o.status.as_deref().unwrap_or("")
                );
            }
        }
        CardStatus::Ambiguous => {
            println!("{} matches several records:", card.query.value);
            for c in &card.candidates {
                println!("  {} (id {}) {}", c.name, c.id, c.domains.join(", "));
            }
        }
        CardStatus::NotFound => println!("{}: not in Affinity", card.query.value),
        CardStatus::Ignored => println!("{}: never looked up", card.query.value),
        CardStatus::Error => {}
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Card { target, json, api } => {
            let query = parse_target(&target)?;
            let client = api.client()?;
            let card = lookup_card(&client, &query).await;
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
            let me = api.client()?.whoami().await.map_err(|e| e.to_string())?;
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
            let rate = api.client()?.rate_limit().await.map_err(|e| e.to_string())?;
            let show = |v: affinity_core::models::RateLimitValue| match v {
                affinity_core::models::RateLimitValue::Limited(n) => n.to_string(),
                affinity_core::models::RateLimitValue::Unlimited => "unlimited".to_owned(),
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
            Ok(())
        }
        Command::Sandbox(args) => args.run().await,
        Command::Gateway { listen, allow_origins, client_token, api } => {
            use affinity_server::gateway::{Gateway, GatewayConfig};
            let client = api.client()?;
            for origin in &allow_origins {
                if !(origin.starts_with("http://") || origin.starts_with("https://")) || origin.ends_with('/') {
                    return Err(format!(
                        "--allow-origin wants an origin like https://intranet.example, got {origin:?}"
                    ));
                }
            }
            let config = GatewayConfig {
                base_url: client.config().base_url.clone(),
                api_key: client.config().api_key.clone(),
                allow_origins,
                client_token,
            };
            let listener =
                tokio::net::TcpListener::bind(&listen).await.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            println!("listening on http://{addr}");
            Gateway::new(config).serve(listener).await.map_err(|e| e.to_string())
        }
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
