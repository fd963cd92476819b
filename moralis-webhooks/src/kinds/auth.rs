//! The `_User` and `_Session` kinds: beforeLogin, afterLogin, afterLogout and
//! beforePasswordResetRequest.

use serde_json::{Map, Value};

use super::Body;
use crate::request::BadRequest;
use crate::{Headers, ParseObject, Trigger, User};

/// A beforeLogin or afterLogin call (class `_User`).
///
/// beforeLogin: an error refuses the login (code 141) and no session is made. afterLogin:
/// an error tells the client the login failed, **but the session was already created**
/// and stays (its token is never returned): refuse logins in beforeLogin. Parse Server
/// ignores any user a webhook sends back.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoginRequest {
    /// [`Trigger::BeforeLogin`] or [`Trigger::AfterLogin`].
    pub trigger: Trigger,
    /// The `_User` logging in. After the login it carries the new `sessionToken`, which
    /// `Debug` output hides.
    pub object: ParseObject,
    /// afterLogin: the same user, as the caller (with the new session token).
    pub user: Option<User>,
    /// Whether the client used the master key.
    pub master: bool,
    /// Whether the client used the read-only master key.
    pub is_read_only: bool,
    /// The client's installation id.
    pub installation_id: Option<String>,
    /// The client's `X-Parse-Cloud-Context`.
    pub context: Map<String, Value>,
    /// The headers of the client's request (secret-bearing; see [`Headers`]).
    pub headers: Headers,
    /// The client's IP address, as Parse Server saw it.
    pub ip: Option<String>,
    /// The server's Parse client, behind `parse()`.
    pub(crate) parse: Option<crate::ParseClient>,
}

/// An afterLogout call (class `_Session`): the session is already deleted.
///
/// An error reaches the client (code 141) but cannot undo the logout.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LogoutRequest {
    /// The deleted `_Session` (`sessionToken`, hidden from `Debug`; `user` pointer;
    /// `expiresAt`; `createdWith`).
    pub object: ParseObject,
    /// The user who logged out.
    pub user: Option<User>,
    /// Whether the client used the master key.
    pub master: bool,
    /// Whether the client used the read-only master key.
    pub is_read_only: bool,
    /// The client's installation id.
    pub installation_id: Option<String>,
    /// The headers of the client's request (secret-bearing; see [`Headers`]).
    pub headers: Headers,
    /// The client's IP address, as Parse Server saw it.
    pub ip: Option<String>,
    /// The server's Parse client, behind `parse()`.
    pub(crate) parse: Option<crate::ParseClient>,
}

/// A beforePasswordResetRequest call (class `_User`): a reset email is about to be sent.
///
/// An error refuses it (code 141, no email). Parse Server calls it only for an email that
/// belongs to a user, and only with an email adapter, `appName` and `publicServerURL`
/// configured.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PasswordResetRequest {
    /// The `_User` the email would go to.
    pub object: ParseObject,
    /// Whether the client used the master key.
    pub master: bool,
    /// Whether the client used the read-only master key.
    pub is_read_only: bool,
    /// The client's installation id.
    pub installation_id: Option<String>,
    /// The client's `X-Parse-Cloud-Context`.
    pub context: Map<String, Value>,
    /// The headers of the client's request (secret-bearing; see [`Headers`]).
    pub headers: Headers,
    /// The client's IP address, as Parse Server saw it.
    pub ip: Option<String>,
    /// The server's Parse client, behind `parse()`.
    pub(crate) parse: Option<crate::ParseClient>,
}

pub(super) fn decode_login(
    mut body: Body<'_>,
    class_name: &str,
    trigger: Trigger,
) -> Result<LoginRequest, BadRequest> {
    Ok(LoginRequest {
        parse: None,
        trigger,
        object: body.object(class_name, trigger)?,
        user: body.user,
        master: body.master.unwrap_or(false),
        is_read_only: body.is_read_only.unwrap_or(false),
        installation_id: body.installation_id,
        context: body.context.unwrap_or_default(),
        headers: body.headers.unwrap_or_default(),
        ip: body.ip,
    })
}

pub(super) fn decode_logout(
    mut body: Body<'_>,
    class_name: &str,
    trigger: Trigger,
) -> Result<LogoutRequest, BadRequest> {
    Ok(LogoutRequest {
        parse: None,
        object: body.object(class_name, trigger)?,
        user: body.user,
        master: body.master.unwrap_or(false),
        is_read_only: body.is_read_only.unwrap_or(false),
        installation_id: body.installation_id,
        headers: body.headers.unwrap_or_default(),
        ip: body.ip,
    })
}

pub(super) fn decode_password_reset(
    mut body: Body<'_>,
    class_name: &str,
    trigger: Trigger,
) -> Result<PasswordResetRequest, BadRequest> {
    Ok(PasswordResetRequest {
        parse: None,
        object: body.object(class_name, trigger)?,
        master: body.master.unwrap_or(false),
        is_read_only: body.is_read_only.unwrap_or(false),
        installation_id: body.installation_id,
        context: body.context.unwrap_or_default(),
        headers: body.headers.unwrap_or_default(),
        ip: body.ip,
    })
}
