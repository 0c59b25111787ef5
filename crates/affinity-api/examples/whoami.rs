//! Who an API key belongs to: `GET /auth/whoami`.
//!
//! ```sh
//! AFFINITY_API_KEY=… cargo run -p affinity-api --example whoami
//! AFFINITY_BASE_URL=http://127.0.0.1:8787 AFFINITY_API_KEY=demo-key cargo run -p affinity-api --example whoami
//! ```

use affinity_api::{Client, ClientConfig};

#[cfg(not(target_arch = "wasm32"))]
#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let base_url = std::env::var("AFFINITY_BASE_URL").unwrap_or_else(|_| "https://api.affinity.co".into());
    let key = std::env::var("AFFINITY_API_KEY").map_err(|_| "set AFFINITY_API_KEY")?;
    let client = Client::new(ClientConfig::new(base_url, key));

    let me = client.whoami().await?;
    println!("{} {} <{}>", me.user.first_name, me.user.last_name, me.user.email.as_deref().unwrap_or("no email"));
    println!("firm: {} ({}.affinity.co)", me.tenant.name, me.tenant.subdomain);
    Ok(())
}

/// The example runs natively (it needs a runtime to block on); in the browser the same
/// client runs on the page's event loop.
#[cfg(target_arch = "wasm32")]
fn main() {}
