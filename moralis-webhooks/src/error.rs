//! The two error types: [`Error`], which a handler returns to fail one call, and
//! [`ServeError`], which stops the server before or while it serves.

use std::fmt;
use std::net::SocketAddr;

/// The message a Parse client sees when a handler fails with an error that is not meant for
/// it (see [`Error::internal`]).
pub(crate) const INTERNAL_MESSAGE: &str = "internal error in the webhook server";

/// An error returned by a handler: the call fails and Parse Server reports it to its client.
///
/// Parse Server turns every webhook error into `{"code": 141, "error": "<message>"}` for its
/// client, whatever code the webhook sends, so what reaches the client is the message.
///
/// There are two kinds:
///
/// - **Public** errors, made with [`Error::new`], and the errors this crate makes for bad
///   input (a missing parameter, a field of the wrong type). Their message goes to the Parse
///   client verbatim: write it for the end user.
/// - **Internal** errors: any other error type converted through `?` (an I/O error, a
///   database error, ...), or [`Error::internal`]. The client sees only
///   `"internal error in the webhook server"`; the full error is logged at `ERROR` level
///   with the hook it came from. Details of your infrastructure never reach app users.
///
/// An error Parse Server answered to a call of the [`ParseClient`](crate::client::ParseClient)
/// (an object not found, a session token no longer valid, a field of the wrong type, ...)
/// keeps Parse's numeric code, which [`Error::code`] returns, and is **public**: passed on
/// with `?`, it reaches the webhook's client as `"<Parse's message> (code <n>)"` (under
/// code 141, as every webhook error does). Map it to an error of your own with `map_err`
/// where Parse's message should not reach the end user. Failures that are about the
/// webhook server's own set-up or connection to Parse Server (no master key configured,
/// Parse Server unreachable, an answer without a code such as `403 unauthorized`) are
/// internal.
///
/// ```
/// use moralis_webhooks::{Error, FunctionRequest};
///
/// async fn transfer(req: FunctionRequest) -> Result<u64, Error> {
///     let amount: u64 = req.param("amount")?; // a missing/mistyped param: public error
///     if amount == 0 {
///         return Err(Error::new("amount must be positive")); // public error
///     }
///     let balance = std::fs::read_to_string("/nonexistent/balance")?; // internal error
///     Ok(balance.trim().parse::<u64>().map_err(Error::internal)? - amount)
/// }
/// ```
pub struct Error {
    kind: Kind,
    /// Parse's error code, for an error Parse Server answered.
    code: Option<i64>,
}

enum Kind {
    Public(String),
    Internal(Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl Error {
    /// An error whose message the Parse client receives as is.
    ///
    /// An empty message is replaced by `"Script failed."`, what Cloud Code answers for an
    /// empty error (Parse Server would take `{"error": ""}` for a success).
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Public(message.into()),
            code: None,
        }
    }

    /// A public error carrying Parse's error `code`: what the
    /// [`ParseClient`](crate::client::ParseClient) returns when Parse Server answers
    /// `{"code": code, "error": message}`. Its client message is
    /// `"<message> (code <code>)"`.
    ///
    /// ```
    /// # use moralis_webhooks::Error;
    /// let error = Error::with_code(101, "Object not found.");
    /// assert_eq!(error.code(), Some(101));
    /// assert_eq!(error.client_message(), "Object not found. (code 101)");
    /// ```
    pub fn with_code(code: i64, message: impl AsRef<str>) -> Self {
        Error {
            kind: Kind::Public(format!("{} (code {code})", message.as_ref())),
            code: Some(code),
        }
    }

    /// Parse's error code, when Parse Server answered this error (see
    /// [`with_code`](Self::with_code)); `None` for every other error.
    pub fn code(&self) -> Option<i64> {
        self.code
    }

    /// An error that is logged in full but reaches the client only as
    /// `"internal error in the webhook server"`.
    ///
    /// Any `std::error::Error` converts into this kind through `?`; use this function for
    /// error types that do not implement `std::error::Error` (or for a plain message you do
    /// not want the client to see).
    pub fn internal(error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Error {
            kind: Kind::Internal(error.into()),
            code: None,
        }
    }

    /// A copy, for reporting one failure for several items: the same code and message
    /// (an internal error's copy keeps its text, not its source chain).
    pub(crate) fn duplicate(&self) -> Error {
        match &self.kind {
            Kind::Public(message) => Error {
                kind: Kind::Public(message.clone()),
                code: self.code,
            },
            Kind::Internal(_) => Error::internal(self.to_string()),
        }
    }

    /// Whether the client sees only a generic message (see [`Error::internal`]).
    pub fn is_internal(&self) -> bool {
        matches!(self.kind, Kind::Internal(_))
    }

    /// The message the Parse client receives.
    pub fn client_message(&self) -> &str {
        match &self.kind {
            Kind::Public(message) if message.is_empty() => "Script failed.",
            Kind::Public(message) => message,
            Kind::Internal(_) => INTERNAL_MESSAGE,
        }
    }
}

impl<E> From<E> for Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn from(error: E) -> Self {
        let error: Box<dyn std::error::Error + Send + Sync> = Box::new(error);
        // The crate's own errors about a value the client may fix are for the client.
        let error = match error.downcast::<crate::types::InvalidValue>() {
            Ok(invalid) => return Error::new(invalid.to_string()),
            Err(other) => other,
        };
        match error.downcast::<crate::types::InvalidDate>() {
            Ok(invalid) => Error::new(invalid.to_string()),
            Err(other) => Error::internal(other),
        }
    }
}

/// Shows the full error, internal details included: this is what the server logs.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Public(_) => f.write_str(self.client_message()),
            Kind::Internal(error) => f.write_str(&error_chain(error.as_ref())),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, self.code) {
            (Kind::Public(message), Some(code)) => f
                .debug_tuple("Error::Parse")
                .field(&code)
                .field(message)
                .finish(),
            (Kind::Public(message), None) => f.debug_tuple("Error::Public").field(message).finish(),
            (Kind::Internal(error), _) => f.debug_tuple("Error::Internal").field(error).finish(),
        }
    }
}

/// Why the server could not start, or stopped.
///
/// `Debug` prints the same message as `Display`, so that `main` returning
/// `Result<(), ServeError>` tells the user what went wrong in plain words.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// A setting (from the environment or the builder) has an invalid value.
    #[error("invalid setting {setting}: {message}")]
    InvalidSetting {
        /// The environment variable or builder method.
        setting: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// No webhook key is configured and running unauthenticated was not allowed.
    #[error(
        "no webhook key configured: set MORALIS_WEBHOOKS_KEY (or PARSE_SERVER_WEBHOOK_KEY) to \
         the webhookKey of your Parse Server, or explicitly allow unauthenticated calls with \
         MORALIS_WEBHOOKS_ALLOW_UNAUTHENTICATED=true / Server::allow_unauthenticated()"
    )]
    MissingWebhookKey,
    /// The handlers cannot be served as registered (duplicates, invalid names); one line
    /// per problem.
    #[error("invalid webhook handlers:\n{}", .problems.join("\n"))]
    InvalidHandlers {
        /// Every problem found, each naming the source locations involved.
        problems: Vec<String>,
    },
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Registering the hooks with Parse Server failed.
    #[error("registering the hooks with Parse Server failed: {0}")]
    Registration(#[from] crate::RegisterError),
    /// An I/O error while serving (installing signal handlers, for example).
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// An error and its sources, `outer: inner: innermost`.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

impl fmt::Debug for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_message_reaches_the_client() {
        let error = Error::new("score must not be negative");
        assert_eq!(error.client_message(), "score must not be negative");
        assert!(!error.is_internal());
        assert_eq!(error.to_string(), "score must not be negative");
    }

    #[test]
    fn parse_errors_keep_their_code_and_reach_the_client() {
        let error = Error::with_code(101, "Object not found.");
        assert_eq!(error.code(), Some(101));
        assert!(!error.is_internal());
        assert_eq!(error.client_message(), "Object not found. (code 101)");
        assert_eq!(error.to_string(), "Object not found. (code 101)");
        assert_eq!(Error::new("x").code(), None);
        assert_eq!(Error::internal("x").code(), None);
    }

    #[test]
    fn empty_message_is_never_sent_as_empty() {
        assert_eq!(Error::new("").client_message(), "Script failed.");
    }

    #[test]
    fn foreign_errors_are_internal_and_hidden_from_the_client() {
        fn fails() -> Result<(), Error> {
            let _: u32 = "not a number".parse()?;
            Ok(())
        }
        let error = fails().unwrap_err();
        assert!(error.is_internal());
        assert_eq!(error.client_message(), INTERNAL_MESSAGE);
        assert_eq!(error.to_string(), "invalid digit found in string");
    }

    #[test]
    fn display_of_internal_errors_includes_the_source_chain() {
        #[derive(Debug, thiserror::Error)]
        #[error("loading the balance")]
        struct Outer(#[source] std::io::Error);
        let error = Error::from(Outer(std::io::Error::other("disk gone")));
        assert_eq!(error.to_string(), "loading the balance: disk gone");
    }
}
