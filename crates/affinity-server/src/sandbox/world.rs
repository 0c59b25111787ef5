//! The sandbox's world: the organizations, people and lists it serves.

use serde_json::{Value, json};

/// An organization as the sandbox stores it.
#[derive(Debug, Clone)]
pub struct Org {
    pub id: i64,
    pub name: String,
    pub domain: Option<String>,
    pub domains: Vec<String>,
    pub person_ids: Vec<i64>,
}

impl Org {
    /// The shape of `GET /organizations` results.
    pub fn summary(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "domain": self.domain,
            "domains": self.domains,
            "crunchbase_uuid": null,
            "global": false,
        })
    }

    /// The shape of `GET /organizations/{id}`.
    pub fn detail(&self) -> Value {
        let mut v = self.summary();
        v["person_ids"] = json!(self.person_ids);
        v["list_entries"] = json!([]);
        v
    }
}

/// Everything the sandbox knows.
#[derive(Debug, Clone)]
pub struct World {
    pub organizations: Vec<Org>,
}

impl World {
    /// The default world. Company domains under `.test` and `.localhost` let tests and the
    /// demo serve pages "as" those companies on this machine.
    pub fn seeded() -> World {
        let org = |id: i64, name: &str, domains: &[&str]| Org {
            id,
            name: name.to_owned(),
            domain: domains.first().map(|d| d.to_string()),
            domains: domains.iter().map(|d| d.to_string()).collect(),
            person_ids: Vec::new(),
        };
        World {
            organizations: vec![
                org(7133202, "Acme Corporation", &["acme.test", "acme.localhost", "acme.com"]),
                org(7133203, "Globex", &["globex.test", "globex.localhost"]),
                org(7133204, "Initech", &["initech.test", "initech.localhost"]),
                org(7133205, "Acme Anvils (unrelated)", &["acmeanvils.test"]),
            ],
        }
    }

    /// Organizations whose name or a domain contains `term`, case-insensitively, in id order.
    pub fn search_organizations(&self, term: &str) -> Vec<&Org> {
        let term = term.trim().to_lowercase();
        self.organizations
            .iter()
            .filter(|o| {
                term.is_empty() || o.name.to_lowercase().contains(&term) || o.domains.iter().any(|d| d.contains(&term))
            })
            .collect()
    }

    /// The organization with that id.
    pub fn organization(&self, id: i64) -> Option<&Org> {
        self.organizations.iter().find(|o| o.id == id)
    }

    /// `GET /auth/whoami` for the sandbox's one key.
    pub fn whoami(&self) -> Value {
        json!({
            "tenant": { "id": 1, "name": "Sandbox Ventures", "subdomain": "sandbox-ventures" },
            "user": { "id": 26317, "firstName": "Alice", "lastName": "Doe", "email": "alice@sandbox-ventures.test" },
            "grant": { "type": "api_key", "scope": "external_api", "createdAt": "2026-01-01T00:00:00Z" }
        })
    }
}
