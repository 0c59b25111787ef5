//! The Affinity API v1 client: builds requests, sends them over a [`Transport`], decodes
//! answers into models and errors into [`Error`].

use base64::Engine;
use serde::de::DeserializeOwned;
use web_time::Duration;

use crate::Error;
use crate::models::{Organization, OrganizationsPage, WhoAmI};
use crate::transport::{DefaultTransport, HttpRequest, Method, Transport};

/// How the key is sent. Affinity v1 accepts both; Basic is the long-documented one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Auth {
    /// `Authorization: Basic base64(":" + key)`.
    #[default]
    Basic,
    /// `Authorization: Bearer key`.
    Bearer,
}

/// Where and how to reach Affinity.
#[derive(Clone)]
pub struct ClientConfig {
    /// Base URL without a trailing slash, e.g. `https://api.affinity.co`.
    pub base_url: String,
    /// The user's API key. Never logged: `Debug` hides it.
    pub api_key: String,
    pub auth: Auth,
    /// Time limit for one request.
    pub timeout: Duration,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &"<hidden>")
            .field("auth", &self.auth)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl ClientConfig {
    /// Basic auth and a 15-second timeout.
    pub fn new(base_url: impl Into<String>, api_key: impl Into<String>) -> Self {
        ClientConfig {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            api_key: api_key.into(),
            auth: Auth::Basic,
            timeout: Duration::from_secs(15),
        }
    }
}

/// An Affinity API v1 client over a transport.
#[derive(Debug, Clone)]
pub struct Client<T = DefaultTransport> {
    config: ClientConfig,
    transport: T,
}

impl Client<DefaultTransport> {
    /// A client with the platform's default transport.
    pub fn new(config: ClientConfig) -> Self {
        Client { config, transport: DefaultTransport::new() }
    }
}

impl<T: Transport> Client<T> {
    /// A client over the given transport.
    pub fn with_transport(config: ClientConfig, transport: T) -> Self {
        Client { config, transport }
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    fn authorization(&self) -> String {
        match self.config.auth {
            Auth::Basic => {
                let token = base64::engine::general_purpose::STANDARD.encode(format!(":{}", self.config.api_key));
                format!("Basic {token}")
            }
            Auth::Bearer => format!("Bearer {}", self.config.api_key),
        }
    }

    /// Sends one request and decodes a 2xx answer as `R`.
    pub async fn request<R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<serde_json::Value>,
    ) -> Result<R, Error> {
        let mut url = url::Url::parse(&format!("{}{}", self.config.base_url, path)).map_err(|e| Error::Invalid {
            status: 0,
            message: format!("bad base URL {:?}: {e}", self.config.base_url),
        })?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let mut headers = vec![
            ("authorization".to_owned(), self.authorization()),
            ("accept".to_owned(), "application/json".to_owned()),
        ];
        if body.is_some() {
            headers.push(("content-type".to_owned(), "application/json".to_owned()));
        }
        let request = HttpRequest {
            method,
            url: url.into(),
            headers,
            body: body.map(|b| b.to_string()),
            timeout: self.config.timeout,
        };
        let response = self.transport.send(request).await?;
        if !(200..300).contains(&response.status) {
            let retry_after = response
                .header("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .or_else(|| response.header("x-ratelimit-limit-user-reset").and_then(|v| v.trim().parse().ok()))
                .map(Duration::from_secs);
            return Err(Error::from_status(response.status, &response.body, retry_after));
        }
        decode(&response.body)
    }

    /// `GET /organizations?term=` — one page of the organization search.
    pub async fn search_organizations(&self, term: &str, page_token: Option<&str>) -> Result<OrganizationsPage, Error> {
        let mut query = vec![("term", term.to_owned())];
        if let Some(token) = page_token {
            query.push(("page_token", token.to_owned()));
        }
        self.request(Method::Get, "/organizations", &query, None).await
    }

    /// `GET /organizations/{id}`.
    pub async fn get_organization(&self, id: i64) -> Result<Organization, Error> {
        self.request(Method::Get, &format!("/organizations/{id}"), &[], None).await
    }

    /// `GET /auth/whoami`: the key's user and firm.
    pub async fn whoami(&self) -> Result<WhoAmI, Error> {
        self.request(Method::Get, "/auth/whoami", &[], None).await
    }
}

/// Decodes JSON, naming the field that failed.
pub fn decode<R: DeserializeOwned>(body: &str) -> Result<R, Error> {
    let de = &mut serde_json::Deserializer::from_str(body);
    serde_path_to_error::deserialize(de)
        .map_err(|e| Error::BadResponse { path: e.path().to_string(), message: e.inner().to_string() })
}
