//! A company's firmographics from Affinity's data enrichment: API v2's enriched fields
//! (`affinity-data-*`, and those of other sources by name), which come with a company's
//! list entries (`GET /v2/companies/{id}/list-entries` holds "field data for the Company")
//! or with the company (`GET /v2/companies/{id}?fieldTypes=enriched`). v1 has none: a card
//! made with a v1-only key has no firmographics (`null`, not an error).

use serde_json::Value;

use affinity_api::models::Timestamp;
use affinity_api::v2::{self, FieldType};

use crate::card::Firmographics;

/// What each part of the firmographics is called: Affinity's own id, and names other
/// sources give the same thing.
const PARTS: [(&str, &[&str]); 8] = [
    ("affinity-data-industry", &["industry", "industries"]),
    ("affinity-data-number-of-employees", &["number of employees", "employees", "headcount"]),
    ("affinity-data-total-funding-amount", &["total funding amount (usd)", "total funding amount", "total funding"]),
    ("affinity-data-investment-stage", &["investment stage", "last funding type", "last round"]),
    ("affinity-data-last-funding-amount", &["last funding amount (usd)", "last funding amount"]),
    ("affinity-data-last-funding-date", &["last funding date"]),
    ("affinity-data-location", &["location", "headquarters"]),
    ("affinity-data-year-founded", &["year founded", "founded"]),
];

/// Whether any of `fields` is an enriched field (then the company's firmographics are
/// there, known or not).
pub fn has_enriched(fields: &[v2::Field]) -> bool {
    fields.iter().any(|f| f.field_type == FieldType::Enriched)
}

/// The firmographics among a company's `fields`; `None` when nothing is known.
pub fn from_fields(fields: &[v2::Field]) -> Option<Firmographics> {
    let enriched: Vec<&v2::Field> = fields.iter().filter(|f| f.field_type == FieldType::Enriched).collect();
    // Affinity's own field by id first, else another source's by name, the first with data.
    let part = |i: usize| -> Option<&Value> {
        let (id, names) = PARTS[i];
        let by_id = enriched.iter().find(|f| f.id == id && !f.value.data.is_null());
        let by_name = || {
            enriched.iter().find(|f| names.contains(&f.name.to_ascii_lowercase().as_str()) && !f.value.data.is_null())
        };
        by_id.or_else(by_name).map(|f| &f.value.data)
    };
    let number = |i| part(i).and_then(number_of);
    let text = |i| part(i).and_then(|v| v.as_str()).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
    let f = Firmographics {
        industries: part(0).map(texts).unwrap_or_default(),
        employees: number(1).map(|n| n.round() as i64),
        total_funding_usd: number(2),
        last_round: part(3).and_then(|v| texts(v).into_iter().next()),
        last_round_usd: number(4),
        last_round_date: text(5).and_then(|t| Timestamp::parse(&t)).map(|t| t.to_iso()),
        location: part(6).and_then(location),
        year_founded: number(7).map(|n| n.round() as i64).filter(|y| (1000..=9999).contains(y)),
    };
    (!f.is_empty()).then_some(f)
}

/// The firmographics in one line, as the CLI prints them (the card formats the amounts in
/// the user's locale): "Manufacturing, Aerospace · 420 employees · $48.5M raised · last
/// round Series B, $30M, 2025-06-12 · San Francisco, California, United States · founded
/// 2014". What is not known is left out.
pub fn summary(f: &Firmographics) -> String {
    summary_with(f, |n| format!("{n}"), usd_short)
}

/// [`summary`] with the numbers and the dollar amounts written by `number` and `usd` (the
/// card's: in the user's locale).
pub fn summary_with(f: &Firmographics, number: impl Fn(f64) -> String, usd: impl Fn(f64) -> String) -> String {
    let mut parts: Vec<String> = Vec::new();
    if !f.industries.is_empty() {
        parts.push(f.industries.join(", "));
    }
    if let Some(n) = f.employees {
        parts.push(format!("{} employees", number(n as f64)));
    }
    if let Some(amount) = f.total_funding_usd {
        parts.push(format!("{} raised", usd(amount)));
    }
    let round: Vec<String> = [
        f.last_round.clone(),
        f.last_round_usd.map(&usd),
        f.last_round_date.as_deref().map(|d| d.chars().take(10).collect()),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !round.is_empty() {
        parts.push(format!("last round {}", round.join(", ")));
    }
    parts.extend(f.location.clone());
    if let Some(y) = f.year_founded {
        parts.push(format!("founded {y}"));
    }
    parts.join(" · ")
}

/// "$48.5M", "$1.2B", "$750K", "$900".
pub fn usd_short(usd: f64) -> String {
    let (value, unit) = match usd.abs() {
        a if a >= 1e9 => (usd / 1e9, "B"),
        a if a >= 1e6 => (usd / 1e6, "M"),
        a if a >= 1e3 => (usd / 1e3, "K"),
        _ => (usd, ""),
    };
    let shown = format!("{value:.1}");
    let shown = shown.strip_suffix(".0").unwrap_or(&shown);
    format!("${shown}{unit}")
}

/// A number, or a range's lower bound ("51-200" employees), or `{calculatedValue}`.
fn number_of(v: &Value) -> Option<f64> {
    let n = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.split(['-', '–']).next().and_then(|s| s.trim().replace(',', "").parse().ok()),
        Value::Object(o) => o.get("calculatedValue").and_then(Value::as_f64),
        _ => None,
    };
    n.filter(|n| n.is_finite() && *n >= 0.0)
}

/// Texts of a text or a list of texts (LinkedIn objects `{text}` included).
fn texts(v: &Value) -> Vec<String> {
    let one =
        |v: &Value| v.as_str().or_else(|| v.get("text").and_then(Value::as_str)).map(str::trim).map(str::to_owned);
    let all: Vec<String> = match v {
        Value::Array(items) => items.iter().filter_map(one).collect(),
        other => one(other).into_iter().collect(),
    };
    all.into_iter().filter(|t| !t.is_empty()).collect()
}

/// "San Francisco, California, United States" from a location (or the first of several).
fn location(v: &Value) -> Option<String> {
    let v = match v {
        Value::Array(items) => items.first()?,
        other => other,
    };
    if let Some(t) = v.as_str() {
        return Some(t.trim().to_owned()).filter(|t| !t.is_empty());
    }
    let parts: Vec<&str> = ["city", "state", "country"]
        .iter()
        .filter_map(|k| v.get(k).and_then(Value::as_str))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(id: &str, name: &str, value_type: &str, data: Value) -> v2::Field {
        serde_json::from_value(serde_json::json!({
            "id": id, "name": name, "type": "enriched", "enrichmentSource": "affinity-data",
            "value": { "type": value_type, "data": data }
        }))
        .unwrap()
    }

    #[test]
    fn the_enriched_fields_make_the_firmographics() {
        let fields = vec![
            field(
                "affinity-data-industry",
                "Industry",
                "filterable-text-multi",
                serde_json::json!(["Manufacturing", "Aerospace"]),
            ),
            field("affinity-data-number-of-employees", "Number of Employees", "number", serde_json::json!(420)),
            field(
                "affinity-data-total-funding-amount",
                "Total Funding Amount (USD)",
                "number",
                serde_json::json!(48500000.0),
            ),
            field(
                "affinity-data-investment-stage",
                "Investment Stage",
                "filterable-text",
                serde_json::json!("Series B"),
            ),
            field(
                "affinity-data-last-funding-amount",
                "Last Funding Amount (USD)",
                "number",
                serde_json::json!(30000000.0),
            ),
            field(
                "affinity-data-last-funding-date",
                "Last Funding Date",
                "datetime",
                serde_json::json!("2025-06-12T00:00:00Z"),
            ),
            field(
                "affinity-data-location",
                "Location",
                "location",
                serde_json::json!({"streetAddress": null, "city": "San Francisco", "state": "California", "country": "United States", "continent": null}),
            ),
            field("affinity-data-year-founded", "Year Founded", "number", serde_json::json!(2014)),
        ];
        let f = from_fields(&fields).unwrap();
        assert_eq!(f.industries, ["Manufacturing", "Aerospace"]);
        assert_eq!((f.employees, f.total_funding_usd, f.year_founded), (Some(420), Some(48_500_000.0), Some(2014)));
        assert_eq!(f.last_round.as_deref(), Some("Series B"));
        assert_eq!(
            (f.last_round_usd, f.last_round_date.as_deref()),
            (Some(30_000_000.0), Some("2025-06-12T00:00:00.000Z"))
        );
        assert_eq!(f.location.as_deref(), Some("San Francisco, California, United States"));
        assert_eq!(
            summary(&f),
            "Manufacturing, Aerospace · 420 employees · $48.5M raised · last round Series B, $30M, 2025-06-12 \
             · San Francisco, California, United States · founded 2014"
        );
    }

    #[test]
    fn amounts_are_short() {
        assert_eq!(
            [usd_short(48_500_000.0), usd_short(1.25e9), usd_short(750_000.0), usd_short(900.0)],
            ["$48.5M", "$1.2B", "$750K", "$900"]
        );
    }

    #[test]
    fn nothing_known_is_no_firmographics_and_odd_values_are_left_out() {
        assert_eq!(from_fields(&[field("affinity-data-year-founded", "Year Founded", "number", Value::Null)]), None);
        assert_eq!(from_fields(&[]), None);
        let odd = vec![
            field("affinity-data-number-of-employees", "Number of Employees", "number", serde_json::json!("51-200")),
            field("affinity-data-year-founded", "Year Founded", "number", serde_json::json!(-3)),
            field(
                "dealroom-industries",
                "Industries",
                "filterable-text-multi",
                serde_json::json!([{"text": "Fintech"}]),
            ),
        ];
        let f = from_fields(&odd).unwrap();
        assert_eq!((f.employees, f.year_founded), (Some(51), None));
        assert_eq!(f.industries, ["Fintech"]);
    }
}
