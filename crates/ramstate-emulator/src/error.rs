//! Error responses as the service sends them: an HTTP status, a `Code` and a `Message`,
//! plus the request parameters and the functions that read them.

use std::collections::BTreeMap;

use ramstate_model::Service;

/// One failed call: `{RequestId, HostId, Code, Message}` on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ErrorResponse {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorResponse {
            status,
            code: code.into(),
            message: message.into(),
        }
    }
    pub fn bad_request(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }
    pub fn not_found(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(404, code, message)
    }
    pub fn conflict(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(409, code, message)
    }
    pub fn forbidden(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(403, code, message)
    }
    /// `InvalidParameter` for an unknown Action or Version.
    pub fn unknown_action() -> Self {
        Self::bad_request(
            "InvalidParameter",
            "The specified parameter \"Action or Version\" is not valid.",
        )
    }
    /// A required operation parameter is absent.
    pub fn missing(service: Service, name: &str) -> Self {
        let code = match service {
            Service::Sts => format!("MissingParameter.{name}"),
            _ => format!("Missing{name}"),
        };
        Self::bad_request(
            code,
            format!(
                "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
            ),
        )
    }
    /// `InvalidParameter.<Name>[.<suffix>]`.
    pub fn invalid(name: &str, suffix: Option<&str>, message: impl Into<String>) -> Self {
        let code = match suffix {
            Some(s) => format!("InvalidParameter.{name}.{s}"),
            None => format!("InvalidParameter.{name}"),
        };
        Self::bad_request(code, message)
    }
}

/// The operation parameters of one call (common parameters already removed).
#[derive(Debug, Clone, Default)]
pub struct Params {
    pub service: Option<Service>,
    pub map: BTreeMap<String, String>,
}

impl Params {
    pub fn new(service: Service, map: BTreeMap<String, String>) -> Self {
        Params {
            service: Some(service),
            map,
        }
    }

    /// The value when present and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map
            .get(name)
            .map(|s| s.as_str())
            .filter(|s| !s.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str, ErrorResponse> {
        self.get(name)
            .ok_or_else(|| ErrorResponse::missing(self.service.unwrap_or(Service::Ram), name))
    }

    /// Booleans as SDKs send them: `true`/`True`/`TRUE`, `false`/...
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ErrorResponse> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(ErrorResponse::invalid(
                name,
                None,
                format!("The parameter \"{name}\" must be true or false, not \"{v}\"."),
            )),
        }
    }

    /// An integer within `min..=max`.
    pub fn int(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, ErrorResponse> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(ErrorResponse::invalid(
                    name,
                    None,
                    format!("The parameter \"{name}\" must be an integer from {min} to {max}."),
                )),
            },
        }
    }
}

/// Checks a name's length (in characters) and its characters.
pub fn check_name(
    param: &str,
    value: &str,
    max: usize,
    allowed: impl Fn(char) -> bool,
) -> Result<(), ErrorResponse> {
    let len = value.chars().count();
    if len == 0 || len > max {
        return Err(ErrorResponse::invalid(
            param,
            Some("Length"),
            format!("The length of {param} must be 1 to {max} characters."),
        ));
    }
    if !value.chars().all(allowed) {
        return Err(ErrorResponse::invalid(
            param,
            Some("InvalidChars"),
            format!("The {param} \"{value}\" contains invalid characters."),
        ));
    }
    Ok(())
}

/// Letters, digits, `.`, `-`, `_` (user and group names).
pub fn user_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
}

/// Letters, digits, `.`, `-` (role names).
pub fn role_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-')
}

/// Letters, digits, `-` (policy names).
pub fn policy_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// An optional free-text field of at most `max` characters.
pub fn check_length(param: &str, value: Option<&str>, max: usize) -> Result<(), ErrorResponse> {
    if let Some(v) = value
        && v.chars().count() > max
    {
        return Err(ErrorResponse::invalid(
            param,
            Some("Length"),
            format!("The length of {param} must not exceed {max} characters."),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::new(
            Service::Ram,
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn booleans_are_read_in_any_case() {
        let p = params(&[("A", "True"), ("B", "false"), ("C", "FALSE"), ("D", "yes")]);
        assert_eq!(p.bool("A").unwrap(), Some(true));
        assert_eq!(p.bool("B").unwrap(), Some(false));
        assert_eq!(p.bool("C").unwrap(), Some(false));
        assert_eq!(p.bool("Z").unwrap(), None);
        assert_eq!(p.bool("D").unwrap_err().code, "InvalidParameter.D");
    }

    #[test]
    fn missing_parameters_are_named_in_the_code() {
        assert_eq!(
            params(&[]).required("UserName").unwrap_err().code,
            "MissingUserName"
        );
        let sts = Params::new(Service::Sts, BTreeMap::new());
        assert_eq!(
            sts.required("RoleArn").unwrap_err().code,
            "MissingParameter.RoleArn"
        );
        assert_eq!(
            params(&[("UserName", "")])
                .required("UserName")
                .unwrap_err()
                .status,
            400
        );
    }

    #[test]
    fn names_are_checked_for_length_and_characters() {
        assert!(check_name("UserName", "alice.b-c_d", 64, user_name_char).is_ok());
        assert_eq!(
            check_name("UserName", "al ice", 64, user_name_char)
                .unwrap_err()
                .code,
            "InvalidParameter.UserName.InvalidChars"
        );
        assert_eq!(
            check_name("UserName", &"a".repeat(65), 64, user_name_char)
                .unwrap_err()
                .code,
            "InvalidParameter.UserName.Length"
        );
        assert_eq!(
            check_name("RoleName", "a_b", 64, role_name_char)
                .unwrap_err()
                .code,
            "InvalidParameter.RoleName.InvalidChars"
        );
    }

    #[test]
    fn integers_out_of_range_are_invalid() {
        let p = params(&[("MaxItems", "0"), ("N", "12"), ("X", "abc")]);
        assert_eq!(
            p.int("MaxItems", 1, 100).unwrap_err().code,
            "InvalidParameter.MaxItems"
        );
        assert_eq!(p.int("N", 1, 100).unwrap(), Some(12));
        assert!(p.int("X", 1, 100).is_err());
    }
}
