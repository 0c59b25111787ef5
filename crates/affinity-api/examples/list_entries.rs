//! Every entry of a list, page after page: `GET /lists`, then
//! `GET /lists/{id}/list-entries?page_size=…` following `next_page_token`. The rate limiter
//! paces the pages; the first list is read unless a list id is given.
//!
//! ```sh
//! AFFINITY_API_KEY=… cargo run -p affinity-api --example list_entries -- [LIST_ID]
//! ```

use affinity_api::models::ListEntity;
use affinity_api::{Client, ClientConfig, endpoints};
use futures::StreamExt;

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

    let lists = client.execute(&endpoints::lists()).await?;
    let list = match std::env::args().nth(1) {
        Some(id) => lists.into_iter().find(|l| l.id.to_string() == id).ok_or(format!("no list {id}"))?,
        None => lists.into_iter().next().ok_or("the account has no lists")?,
    };
    println!("{} (list {}):", list.name, list.id);

    let mut pages = std::pin::pin!(client.pages(endpoints::list_entries(list.id, 100)));
    let (mut entries, mut page_count) = (0, 0);
    while let Some(page) = pages.next().await {
        let page = page?;
        page_count += 1;
        for entry in &page.items {
            entries += 1;
            let name = match entry.entity() {
                Some(ListEntity::Organization(o)) => o.name,
                Some(ListEntity::Person(p)) => format!("{} {}", p.first_name, p.last_name),
                Some(ListEntity::Opportunity(o)) => o.name,
                None => format!("entity {}", entry.entity_id),
            };
            println!("  entry {}: {name}", entry.id);
        }
    }
    println!("{entries} entries in {page_count} pages");
    Ok(())
}

/// The example runs natively (it needs a runtime to block on); in the browser the same
/// client runs on the page's event loop.
#[cfg(target_arch = "wasm32")]
fn main() {}
