//! Models of the Affinity API v1 resources, following the serde policy of the reference:
//! unknown fields ignored, `null` accepted where a list is expected, open integer enums,
//! `i64` ids.

use serde::{Deserialize, Deserializer, Serialize};

/// Deserialises `null` as the type's default (an empty list, say).
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An organization (`GET /organizations`, `GET /organizations/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub id: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub domains: Vec<String>,
    #[serde(default)]
    pub crunchbase_uuid: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub global: bool,
    /// Only on `GET /organizations/{id}` and writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_ids: Option<Vec<i64>>,
}

impl Organization {
    /// Every domain the organization has, `domain` first, lower-cased, without repeats.
    pub fn all_domains(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for d in self.domain.iter().chain(self.domains.iter()) {
            let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
            if !d.is_empty() && !all.contains(&d) {
                all.push(d);
            }
        }
        all
    }
}

/// One page of `GET /organizations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationsPage {
    #[serde(default, deserialize_with = "null_as_default")]
    pub organizations: Vec<Organization>,
    #[serde(default)]
    pub next_page_token: Option<String>,
}

/// `GET /auth/whoami`. Note the camelCase keys inside `user` and `grant`, even in v1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhoAmI {
    pub tenant: Tenant,
    pub user: WhoAmIUser,
    #[serde(default)]
    pub grant: Option<Grant>,
}

/// The firm (`whoami.tenant`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub subdomain: String,
}

/// The key's user (`whoami.user`); `id` is their person id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmIUser {
    pub id: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub first_name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub last_name: String,
    #[serde(default)]
    pub email: Option<String>,
}

/// How the key was granted (`whoami.grant`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organization_tolerates_nulls_and_unknown_keys() {
        let org: Organization = serde_json::from_str(
            r#"{"id":64779194,"name":"Acme","domain":null,"domains":null,"global":false,"extra":1}"#,
        )
        .unwrap();
        assert_eq!(org.id, 64779194);
        assert!(org.domains.is_empty());
        assert!(org.all_domains().is_empty());
    }

    #[test]
    fn all_domains_merges_domain_and_domains() {
        let org: Organization =
            serde_json::from_str(r#"{"id":1,"name":"A","domain":"Acme.com","domains":["acme.com","acme.io"]}"#)
                .unwrap();
        assert_eq!(org.all_domains(), vec!["acme.com", "acme.io"]);
    }
}
