//! Numbers and amounts as the user reads them: the browser's `Intl` in its locale (a German
//! browser shows "7.625.000" and "48,5 Mio. $"); outside a browser (native tests) plain
//! English ones.

/// A number with the locale's grouping and decimals: "7,625,000", "2.5".
pub fn number(n: f64) -> String {
    #[cfg(target_arch = "wasm32")]
    if let Some(s) = intl(n, &[("maximumFractionDigits", "2")]) {
        return s;
    }
    plain_number(n)
}

/// An amount in US dollars, short: "$48.5M", "$750K" (in the locale's words).
pub fn usd(n: f64) -> String {
    #[cfg(target_arch = "wasm32")]
    if let Some(s) =
        intl(n, &[("style", "currency"), ("currency", "USD"), ("notation", "compact"), ("maximumFractionDigits", "1")])
    {
        return s;
    }
    lens_core::firmographics::usd_short(n)
}

/// `Intl.NumberFormat(undefined, options).format(n)`.
#[cfg(target_arch = "wasm32")]
fn intl(n: f64, options: &[(&str, &str)]) -> Option<String> {
    use js_sys::{Array, Intl, Object, Reflect};
    use wasm_bindgen::JsValue;
    let o = Object::new();
    for (k, v) in options {
        let v = v.parse::<f64>().map(JsValue::from_f64).unwrap_or_else(|_| JsValue::from_str(v));
        Reflect::set(&o, &JsValue::from_str(k), &v).ok()?;
    }
    let format = Intl::NumberFormat::new(&Array::new(), &o).format();
    format.call1(&JsValue::NULL, &JsValue::from_f64(n)).ok()?.as_string()
}

/// "7,625,000", "-2.5", "0.33".
fn plain_number(n: f64) -> String {
    let rounded = (n * 100.0).round() / 100.0;
    let text = format!("{rounded}");
    let (whole, fraction) = text.split_once('.').map_or((text.as_str(), None), |(w, f)| (w, Some(f)));
    let (sign, digits) = whole.strip_prefix('-').map_or(("", whole), |d| ("-", d));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}{}", fraction.map(|f| format!(".{f}")).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_outside_a_browser_are_grouped_in_threes() {
        for (n, want) in
            [(7_625_000.0, "7,625,000"), (-2.5, "-2.5"), (999.0, "999"), (1000.0, "1,000"), (0.333, "0.33")]
        {
            assert_eq!(number(n), want);
        }
        assert_eq!(usd(48_500_000.0), "$48.5M");
    }
}
