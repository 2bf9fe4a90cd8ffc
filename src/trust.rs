//! Reading role trust policies (pure): which federated principals a trust policy names.

use serde_json::Value;

/// The ARNs a trust policy names as federated principals (`Principal.Federated`, a
/// string or a list, in any statement), in document order, without repeats. A document
/// that is not JSON names none.
pub fn federated_principals(doc: &str) -> Vec<String> {
    let Ok(doc) = serde_json::from_str::<Value>(doc) else {
        return Vec::new();
    };
    let statements = match &doc["Statement"] {
        Value::Array(a) => a.iter().collect(),
        s @ Value::Object(_) => vec![s],
        _ => Vec::new(),
    };
    let mut out: Vec<String> = Vec::new();
    for st in statements {
        let arns: Vec<&str> = match &st["Principal"]["Federated"] {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        for arn in arns {
            if !out.iter().any(|a| a == arn) {
                out.push(arn.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn federated_principals_are_read_from_strings_lists_and_a_lone_statement() {
        let doc = r#"{"Statement":[{"Principal":{"Federated":["a","b"]}},{"Principal":{"Federated":"a"}},{"Principal":{"RAM":["c"]}}]}"#;
        assert_eq!(federated_principals(doc), ["a", "b"]);
        let lone = r#"{"Statement":{"Principal":{"Federated":"x"}}}"#;
        assert_eq!(federated_principals(lone), ["x"]);
        assert!(federated_principals("not json").is_empty());
    }
}
