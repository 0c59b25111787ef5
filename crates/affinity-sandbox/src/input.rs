//! What a request says, in every form Affinity's reference and its examples use: JSON
//! bodies, form bodies (`-d name=…`, arrays as `person_ids[]=1&person_ids[]=2`), and
//! parameters in the query string, which Affinity reads for writes too. Values that came as
//! text (form, query) are read as the number or boolean they spell.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value};

use super::error;

/// The largest request body the sandbox reads.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The parameters of a write: its body (JSON or form) and its query string, merged. A key
/// in both is read from the query string, as Affinity (Rails) does.
#[derive(Debug, Default)]
pub struct Input(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for Input {
    type Rejection = Response;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Response> {
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
            error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("The request body is larger than {} MiB", MAX_BODY_BYTES >> 20),
            )
        })?;
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let mut params = parse_body(&content_type, &bytes)?;
        if let Some(query) = parts.uri.query() {
            params.extend(form(query.as_bytes()));
        }
        Ok(Input(params))
    }
}

fn parse_body(content_type: &str, bytes: &Bytes) -> Result<Map<String, Value>, Response> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match content_type {
        "application/json" => match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(error(StatusCode::UNPROCESSABLE_ENTITY, "The JSON body must be an object")),
            Err(e) => Err(error(StatusCode::BAD_REQUEST, &format!("The body is not valid JSON: {e}"))),
        },
        "application/x-www-form-urlencoded" => Ok(form(bytes)),
        "" => Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "A request body needs a Content-Type: application/json or application/x-www-form-urlencoded",
        )),
        other => Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!(
                "Content-Type {other} is not accepted: send application/json or application/x-www-form-urlencoded"
            ),
        )),
    }
}

/// A form (or query string) as Rails reads it: `a=1`, `a[]=1&a[]=2` (an array),
/// `a[b]=1` (an object), nested as deep as the brackets go. A repeated plain key keeps its
/// last value.
pub fn form(bytes: &[u8]) -> Map<String, Value> {
    let mut map = Map::new();
    for (key, value) in url::form_urlencoded::parse(bytes) {
        let (name, path) = match key.find('[') {
            Some(i) if key.ends_with(']') => (&key[..i], brackets(&key[i..])),
            _ => (key.as_ref(), Vec::new()),
        };
        if name.is_empty() {
            continue;
        }
        let slot = map.entry(name.to_owned()).or_insert(Value::Null);
        place(slot, &path, Value::String(value.into_owned()));
    }
    map
}

/// `[a][][b]` → `["a", "", "b"]`.
fn brackets(s: &str) -> Vec<String> {
    s.trim_start_matches('[').trim_end_matches(']').split("][").map(str::to_owned).collect()
}

fn place(slot: &mut Value, path: &[String], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        *slot = value;
        return;
    };
    if first.is_empty() {
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        let items = slot.as_array_mut().expect("an array");
        items.push(Value::Null);
        let last = items.last_mut().expect("just pushed");
        place(last, rest, value);
    } else {
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let entry = slot.as_object_mut().expect("an object").entry(first.clone()).or_insert(Value::Null);
        place(entry, rest, value);
    }
}

/// The parameters of a read: its query string, and a body if one is sent (the reference
/// shows the `min_…_date` filters of a search as a JSON body on a GET). Values are text,
/// as they would be in the query string.
#[derive(Debug, Default)]
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let Input(map) = Input::from_request(request, state).await?;
        let text = |v: Value| match v {
            Value::String(s) => s,
            other => other.to_string(),
        };
        Ok(Params(map.into_iter().map(|(k, v)| (k, text(v))).collect()))
    }
}

/// A boolean parameter as clients spell it: `true`/`True`/`1` or `false`/`False`/`0` (any
/// case). Absent is `false`; anything else is a 422 naming the parameter.
pub fn boolean(value: Option<&str>, key: &str) -> Result<bool, Response> {
    match value.map(str::trim) {
        None => Ok(false),
        Some("1") => Ok(true),
        Some("0") => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(error(StatusCode::UNPROCESSABLE_ENTITY, &format!("{key} must be true or false, got {v:?}"))),
    }
}

/// A datetime parameter: ISO 8601 with an offset or `Z`; without one it is UTC; a bare
/// date is midnight UTC.
pub fn datetime(value: &str, key: &str) -> Result<chrono::DateTime<chrono::FixedOffset>, Response> {
    let value = value.trim();
    affinity_api::models::Timestamp::parse(value)
        .map(|t| t.0)
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc().fixed_offset())
        })
        .ok_or_else(|| {
            error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("{key} must be an ISO 8601 date or datetime, got {value:?}"),
            )
        })
}

/// An integer sent as a JSON number or as text.
pub fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => {
            n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9e15).map(|f| f as i64))
        }
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A number sent as a JSON number or as text.
pub fn number(value: &Value) -> Option<Value> {
    match value {
        Value::Number(_) => Some(value.clone()),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .map(Value::from)
                .ok()
                .or_else(|| s.parse::<f64>().ok().filter(|f| f.is_finite()).map(Value::from))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forms_read_arrays_and_objects_as_rails_does() {
        let map = form(b"content=Hi+there&person_ids[]=1&person_ids[]=2&value[city]=Paris&value[country]=FR&x=1&x=2");
        assert_eq!(
            Value::Object(map),
            json!({ "content": "Hi there", "person_ids": ["1", "2"], "value": { "city": "Paris", "country": "FR" }, "x": "2" })
        );
        let encoded = form(b"person_ids%5B%5D=3&person_ids%5B%5D=4&webhook_url=https%3A%2F%2Fexample.com%2Fhook");
        assert_eq!(
            Value::Object(encoded),
            json!({ "person_ids": ["3", "4"], "webhook_url": "https://example.com/hook" })
        );
    }

    #[test]
    fn booleans_are_read_as_clients_spell_them_and_nothing_else() {
        for yes in ["true", "True", "TRUE", "1"] {
            assert!(boolean(Some(yes), "f").unwrap(), "{yes}");
        }
        for no in ["false", "False", "0"] {
            assert!(!boolean(Some(no), "f").unwrap(), "{no}");
        }
        assert!(!boolean(None, "f").unwrap());
        for bad in ["yes", "", "2", "t"] {
            assert_eq!(boolean(Some(bad), "f").unwrap_err().status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        }
    }

    #[test]
    fn datetimes_without_an_offset_are_utc() {
        let utc = datetime("2026-12-01T00:00:00Z", "t").unwrap();
        for same in ["2026-12-01T00:00:00", "2026-12-01", "2026-12-01 00:00:00", "2026-12-01T01:00:00+01:00"] {
            assert_eq!(datetime(same, "t").unwrap(), utc, "{same}");
        }
        assert!(datetime("next tuesday", "t").is_err());
    }
}
