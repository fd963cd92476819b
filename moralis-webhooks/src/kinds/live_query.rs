//! LiveQuery's kinds: beforeConnect (`@Connect`), beforeSubscribe and afterEvent.
//!
//! Parse Server's LiveQuery server sends these without `triggerName`, `master`, `headers`
//! or `ip`; beforeConnect's body also holds Parse Server's serialised websocket client,
//! which is skipped unread and never shown.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Body, Secret};
use crate::request::BadRequest;
use crate::{ParseObject, Trigger, User};

/// A beforeConnect call: a LiveQuery client is connecting.
///
/// An error refuses the connection: the client gets a websocket `error` message with code
/// 141 (`reconnect: false`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectRequest {
    /// The user of the session token the client connected with.
    pub user: Option<User>,
    /// Whether the client connected with the master key.
    pub master: bool,
    /// The client's installation id.
    pub installation_id: Option<String>,
    /// How many clients the LiveQuery server has.
    pub clients: u64,
    /// How many subscriptions the LiveQuery server has.
    pub subscriptions: u64,
    session_token: Secret,
    /// The server's Parse client, behind `parse()`.
    pub(crate) parse: Option<crate::ParseClient>,
}

impl ConnectRequest {
    /// The session token the client connected with: a credential. Never log it.
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.get()
    }
}

/// The query of a LiveQuery subscription.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct LiveQuery {
    /// The class subscribed to.
    #[serde(rename = "className", default)]
    pub class_name: String,
    /// The JSON `where` constraints.
    #[serde(rename = "where", default)]
    pub r#where: Map<String, Value>,
    /// The keys the events carry, when the client selected some.
    #[serde(default)]
    pub keys: Option<Vec<String>>,
}

/// A beforeSubscribe call: a LiveQuery client subscribes to a query of the class.
///
/// An error refuses the subscription (a websocket `error` with code 141); the query cannot
/// be changed through a webhook.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SubscribeRequest {
    /// The class subscribed to.
    pub class_name: String,
    /// The query.
    pub query: LiveQuery,
    /// The client's id for this subscription.
    pub request_id: Option<i64>,
    /// The user of the client's session token.
    pub user: Option<User>,
    /// The client's installation id, when it sent one.
    pub installation_id: Option<String>,
    session_token: Secret,
    /// The server's Parse client, behind `parse()`.
    pub(crate) parse: Option<crate::ParseClient>,
}

impl SubscribeRequest {
    /// The session token the client subscribed with: a credential. Never log it.
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.get()
    }
}

/// An afterEvent call: an object of the class changed, and a subscriber is about to hear
/// of it.
///
/// An error sends that subscriber a websocket `error` (code 141) instead of the event. The
/// event itself cannot be changed through a webhook, and the client's save does not wait
/// for this hook.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EventRequest {
    /// `create`, `update`, `enter`, `leave` or `delete`.
    pub event: String,
    /// The object as it is now.
    pub object: ParseObject,
    /// The object before the change (`None` on create).
    pub original: Option<ParseObject>,
    /// The subscriber's user.
    pub user: Option<User>,
    /// Whether the subscriber used the master key.
    pub master: bool,
    /// The subscriber's installation id, when it sent one.
    pub installation_id: Option<String>,
    /// How many clients the LiveQuery server has.
    pub clients: u64,
    /// How many subscriptions the LiveQuery server has.
    pub subscriptions: u64,
    session_token: Secret,
    /// The server's Parse client, behind `parse()`.
    pub(crate) parse: Option<crate::ParseClient>,
}

impl EventRequest {
    /// The subscriber's session token: a credential. Never log it.
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.get()
    }
}

pub(super) fn decode_connect(
    body: Body<'_>,
    _: &str,
    _: Trigger,
) -> Result<ConnectRequest, BadRequest> {
    Ok(ConnectRequest {
        parse: None,
        user: body.user,
        master: body.use_master_key.or(body.master).unwrap_or(false),
        installation_id: body.installation_id,
        clients: body.clients.unwrap_or(0),
        subscriptions: body.subscriptions.unwrap_or(0),
        session_token: Secret(body.session_token),
    })
}

pub(super) fn decode_subscribe(
    body: Body<'_>,
    class_name: &str,
    trigger: Trigger,
) -> Result<SubscribeRequest, BadRequest> {
    let mut query: LiveQuery = body.query(trigger)?;
    if query.class_name.is_empty() {
        query.class_name = class_name.to_owned();
    } else if query.class_name != class_name {
        return Err(BadRequest::new(format!(
            "the beforeSubscribe call's query is on class `{}` but was sent to the route of class `{class_name}`",
            query.class_name
        )));
    }
    Ok(SubscribeRequest {
        parse: None,
        class_name: class_name.to_owned(),
        query,
        request_id: body.request_id,
        user: body.user,
        installation_id: body.installation_id,
        session_token: Secret(body.session_token),
    })
}

pub(super) fn decode_event(
    mut body: Body<'_>,
    class_name: &str,
    trigger: Trigger,
) -> Result<EventRequest, BadRequest> {
    Ok(EventRequest {
        parse: None,
        event: body.event.take().unwrap_or_default(),
        object: body.object(class_name, trigger)?,
        original: body.original(class_name)?,
        user: body.user,
        master: body.use_master_key.or(body.master).unwrap_or(false),
        installation_id: body.installation_id,
        clients: body.clients.unwrap_or(0),
        subscriptions: body.subscriptions.unwrap_or(0),
        session_token: Secret(body.session_token),
    })
}
