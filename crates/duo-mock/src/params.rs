//! Request parameters as clients send them: a query string, a form body (`+` or `%20` for a
//! space, both accepted) or, for signature v4/v5, a JSON object.

use percent_encoding::percent_decode_str;
use serde_json::Value;

pub(crate) type Params = Vec<(String, String)>;

/// Decode `k=v&k2=v2` (application/x-www-form-urlencoded or a query string).
pub(crate) fn form(s: &str) -> Result<Params, String> {
    s.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

fn decode(s: &str) -> Result<String, String> {
    let spaced = s.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| format!("{s:?} is not UTF-8 once percent-decoded"))
}

/// A JSON object body: strings as they are, numbers and booleans as text, arrays as repeated keys.
pub(crate) fn json(body: &[u8]) -> Result<Params, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("body is not valid JSON: {e}"))?;
    let Value::Object(map) = v else {
        return Err("JSON body must be an object".into());
    };
    let mut out = Vec::new();
    for (k, v) in map {
        match v {
            Value::Array(items) => {
                for item in items {
                    out.push((k.clone(), scalar(&k, item)?));
                }
            }
            other => out.push((k.clone(), scalar(&k, other)?)),
        }
    }
    Ok(out)
}

fn scalar(key: &str, v: Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(format!("{key}: expected a string")),
    }
}

/// The single value of `key`; an error when it is given twice.
pub(crate) fn one<'a>(params: &'a Params, key: &str) -> Result<Option<&'a str>, String> {
    let mut found = params
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str());
    let first = found.next();
    if found.next().is_some() {
        return Err(key.to_string());
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_accepts_plus_and_percent_twenty() {
        let p = form("username=alice+smith&ipaddr=203.0.113.7&x=j%C3%BCrgen%20b&flag").unwrap();
        assert_eq!(
            p,
            vec![
                ("username".into(), "alice smith".into()),
                ("ipaddr".into(), "203.0.113.7".into()),
                ("x".into(), "jürgen b".into()),
                ("flag".into(), String::new()),
            ]
        );
        assert_eq!(form("").unwrap(), vec![]);
        assert_eq!(form("a=%2B").unwrap(), vec![("a".into(), "+".into())]);
        assert!(form("a=%FF").is_err());
    }

    #[test]
    fn json_objects() {
        let p = json(br#"{"async":"1","n":5,"b":true,"k":["x","y"]}"#).unwrap();
        assert!(p.contains(&("n".into(), "5".into())));
        assert!(p.contains(&("b".into(), "true".into())));
        assert!(p.contains(&("k".into(), "y".into())));
        assert!(json(b"[1]").is_err());
        assert!(json(b"{").is_err());
        assert!(json(br#"{"a":{"b":1}}"#).is_err());
    }

    #[test]
    fn one_value() {
        let p = form("a=1&b=2&b=3").unwrap();
        assert_eq!(one(&p, "a").unwrap(), Some("1"));
        assert_eq!(one(&p, "c").unwrap(), None);
        assert_eq!(one(&p, "b").unwrap_err(), "b");
    }
}
