//! API errors: Alibaba's `Code`, `Message` and `RequestId`, classified by `Code` only.

use std::fmt;

/// What an error means for the caller, decided from the error `Code` (never the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorKind {
    /// `EntityNotExist.*`: the thing is not there (for a delete: already gone).
    NotFound,
    /// `DeleteConflict.*`: something still depends on it.
    Conflict,
    /// `EntityAlreadyExists.*`.
    AlreadyExists,
    /// `LimitExceeded.*`: a quota, not a rate.
    LimitExceeded,
    /// `Throttling*`: flow control; safe to retry later.
    Throttling,
    /// Signature, key, token or permission problems.
    Auth,
    /// Server-side failures worth retrying (`InternalError`, `ServiceUnavailable`, 5xx).
    Transient,
    /// `InvalidParameter*`, `MissingParameter*`, `MalformedPolicyDocument`.
    InvalidInput,
    /// The connection failed or dropped.
    Network,
    /// No answer within the per-call timeout or the retry deadline.
    Timeout,
    Other,
}

impl ErrorKind {
    /// Classifies an Alibaba error code.
    pub fn from_code(code: &str) -> ErrorKind {
        let starts = |p: &str| code == p || code.starts_with(&format!("{p}."));
        if starts("EntityNotExist") {
            ErrorKind::NotFound
        } else if starts("DeleteConflict") {
            ErrorKind::Conflict
        } else if starts("EntityAlreadyExists") {
            ErrorKind::AlreadyExists
        } else if starts("LimitExceeded") {
            ErrorKind::LimitExceeded
        } else if starts("Throttling") || code.ends_with(".Throttling") {
            ErrorKind::Throttling
        } else if starts("InvalidAccessKeyId")
            || starts("SignatureDoesNotMatch")
            || starts("IncompleteSignature")
            || starts("InvalidSecurityToken")
            || starts("NoPermission")
            || starts("Forbidden")
            || starts("Inactive")
            || starts("AuthenticationFail")
            || starts("InvalidTimeStamp")
            || starts("NotAuthorized")
            || starts("Unauthorized")
            || code.starts_with("AccessDenied")
        {
            ErrorKind::Auth
        } else if starts("InternalError")
            || starts("InternalFailure")
            || starts("ServiceUnavailable")
            || starts("ServiceTimeout")
            || starts("RequestTimeout")
            || starts("UnknownError")
            || starts("SignatureNonceUsed")
        {
            ErrorKind::Transient
        } else if code.starts_with("InvalidParameter")
            || code.starts_with("MissingParameter")
            || code.starts_with("Missing")
            || starts("MalformedPolicyDocument")
            || starts("InvalidAction")
            || starts("InvalidVersion")
        {
            ErrorKind::InvalidInput
        } else {
            ErrorKind::Other
        }
    }

    /// Whether a call that failed this way may be sent again.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::Throttling | ErrorKind::Transient | ErrorKind::Network | ErrorKind::Timeout
        )
    }

    fn help(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "the resource does not exist (or no longer exists)",
            ErrorKind::Conflict => "something still depends on this resource; remove that first",
            ErrorKind::AlreadyExists => "a resource with this name already exists",
            ErrorKind::LimitExceeded => {
                "an account quota is reached; remove something or raise the quota"
            }
            ErrorKind::Throttling => "the API is rate limiting this account; lower --qps",
            ErrorKind::Auth => {
                "check the access key, its secret, the clock and the caller's permissions"
            }
            ErrorKind::Transient => "a temporary server-side failure; it may succeed later",
            ErrorKind::InvalidInput => "the request parameters were rejected",
            ErrorKind::Network => "check network access to the endpoint (and HTTPS_PROXY/NO_PROXY)",
            ErrorKind::Timeout => "the endpoint did not answer in time; try a larger --timeout",
            ErrorKind::Other => "see the message and the request ID",
        }
    }
}

/// One failed API call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ApiError {
    pub kind: ErrorKind,
    /// Alibaba's error code, or a client-side code (`Network`, `Timeout`, `HTTP502`).
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    pub status: Option<u16>,
}

impl ApiError {
    /// An error the API returned; its kind comes from `code`.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> ApiError {
        let code = code.into();
        ApiError {
            kind: ErrorKind::from_code(&code),
            code,
            message: message.into(),
            request_id: None,
            status: None,
        }
    }

    /// An error raised on this side of the wire.
    pub fn local(kind: ErrorKind, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            kind,
            code: code.to_string(),
            message: message.into(),
            request_id: None,
            status: None,
        }
    }

    pub fn with_status(mut self, status: u16) -> ApiError {
        self.status = Some(status);
        self
    }

    pub fn with_request_id(mut self, request_id: Option<String>) -> ApiError {
        self.request_id = request_id;
        self
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status}")?;
            if let Some(id) = &self.request_id {
                write!(f, ", request {id}")?;
            }
            f.write_str(")")?;
        } else if let Some(id) = &self.request_id {
            write!(f, " (request {id})")?;
        }
        Ok(())
    }
}

impl miette::Diagnostic for ApiError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("ramstate::api::{:?}", self.kind)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let specific = match self.code.as_str() {
            "InvalidEndpoint" => {
                Some("give an https:// URL, or http:// only to 127.0.0.1, ::1 or localhost")
            }
            "InvalidProxy" => Some("check HTTPS_PROXY / HTTP_PROXY / ALL_PROXY"),
            "EcsMetadataUnavailable" => Some(
                "EcsRamRole works only on an ECS instance with a RAM role attached; check ALIBABA_CLOUD_ECS_METADATA",
            ),
            "OIDCTokenFileUnreadable" => Some("check ALIBABA_CLOUD_OIDC_TOKEN_FILE"),
            "SignatureDoesNotMatch" => {
                Some("the access key secret does not match the access key ID")
            }
            "InvalidAccessKeyId.NotFound" => {
                Some("the access key ID does not exist (deleted, or a typo)")
            }
            "InvalidAccessKeyId.Inactive" => Some("the access key is disabled"),
            "InvalidTimeStamp.Expired" => Some("the local clock is more than 15 minutes off"),
            "InvalidSecurityToken.Expired" => {
                Some("the STS token has expired; get a fresh one or use long-lived credentials")
            }
            _ => None,
        };
        Some(Box::new(specific.unwrap_or_else(|| self.kind.help())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified_by_prefix() {
        let cases = [
            ("EntityNotExist.User", ErrorKind::NotFound),
            ("EntityNotExist.User.LoginProfile", ErrorKind::NotFound),
            ("EntityNotExist", ErrorKind::NotFound),
            ("DeleteConflict.User.AccessKey", ErrorKind::Conflict),
            ("EntityAlreadyExists.Role", ErrorKind::AlreadyExists),
            ("LimitExceeded.Policy.Version", ErrorKind::LimitExceeded),
            ("Throttling", ErrorKind::Throttling),
            ("Throttling.User", ErrorKind::Throttling),
            ("Rejected.Throttling", ErrorKind::Throttling),
            ("SignatureDoesNotMatch", ErrorKind::Auth),
            ("InvalidAccessKeyId.NotFound", ErrorKind::Auth),
            ("NoPermission", ErrorKind::Auth),
            ("InvalidSecurityToken.Expired", ErrorKind::Auth),
            ("AuthenticationFail.OIDCToken.Expired", ErrorKind::Auth),
            ("InternalError", ErrorKind::Transient),
            ("ServiceUnavailable", ErrorKind::Transient),
            ("InvalidParameter.UserName.Length", ErrorKind::InvalidInput),
            ("MissingParameter", ErrorKind::InvalidInput),
            ("MalformedPolicyDocument", ErrorKind::InvalidInput),
            ("SomethingElse", ErrorKind::Other),
        ];
        for (code, kind) in cases {
            assert_eq!(ErrorKind::from_code(code), kind, "{code}");
        }
    }

    #[test]
    fn similar_looking_codes_are_not_confused() {
        assert_eq!(ErrorKind::from_code("EntityNotExistent"), ErrorKind::Other);
        assert_eq!(ErrorKind::from_code("ThrottlingX"), ErrorKind::Other);
    }

    #[test]
    fn display_names_code_message_status_and_request() {
        let e = ApiError::new("EntityNotExist.User", "The user does not exist.")
            .with_status(404)
            .with_request_id(Some("REQ-1".into()));
        assert_eq!(
            e.to_string(),
            "EntityNotExist.User: The user does not exist. (HTTP 404, request REQ-1)"
        );
        assert!(e.is_not_found());
    }

    #[test]
    fn help_is_specific_where_the_code_says_more_than_the_kind() {
        use miette::Diagnostic;
        let help = |e: ApiError| e.help().unwrap().to_string();
        assert!(
            help(ApiError::local(
                ErrorKind::InvalidInput,
                "InvalidEndpoint",
                "x"
            ))
            .contains("https://")
        );
        assert!(help(ApiError::new("InvalidSecurityToken.Expired", "x")).contains("expired"));
        assert_eq!(
            help(ApiError::new("DeleteConflict.User.Group", "x")),
            ErrorKind::Conflict.help()
        );
        let code = ApiError::new("EntityNotExist.Role", "x")
            .code()
            .unwrap()
            .to_string();
        assert_eq!(code, "ramstate::api::NotFound");
    }

    #[test]
    fn only_throttling_transient_network_and_timeout_are_retryable() {
        for k in [
            ErrorKind::Throttling,
            ErrorKind::Transient,
            ErrorKind::Network,
            ErrorKind::Timeout,
        ] {
            assert!(k.is_retryable());
        }
        for k in [
            ErrorKind::NotFound,
            ErrorKind::Conflict,
            ErrorKind::AlreadyExists,
            ErrorKind::Auth,
            ErrorKind::InvalidInput,
        ] {
            assert!(!k.is_retryable());
        }
    }
}
