//! beforeFind and afterFind: the query a client runs, and its results.

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::Body;
use crate::fields::Fields;
use crate::request::BadRequest;
use crate::{Headers, ParseObject, Trigger, User};

/// The query of a find, get or count, as Parse Server passes it to the find triggers.
///
/// A webhook cannot change it (Parse Server ignores any query a webhook sends back); it can
/// refuse it with an error.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Query {
    /// The JSON `where` constraints (`{}` for none); a get has `{"objectId": ...}`.
    #[serde(rename = "where", default)]
    pub r#where: Map<String, Value>,
    /// The `limit`, when the client set one (Parse Server's default of 100 shows here).
    pub limit: Option<i64>,
    /// The `skip`.
    pub skip: Option<i64>,
    /// The `order`, comma-separated keys with `-` for descending (`"-score,name"`).
    #[serde(default, deserialize_with = "comma_list")]
    pub order: Option<String>,
    /// The `keys` selected, comma-separated.
    #[serde(default, deserialize_with = "comma_list")]
    pub keys: Option<String>,
    /// The pointers to `include`, comma-separated.
    #[serde(default, deserialize_with = "comma_list")]
    pub include: Option<String>,
    /// The `excludeKeys`, comma-separated.
    #[serde(default, rename = "excludeKeys", deserialize_with = "comma_list")]
    pub exclude_keys: Option<String>,
}

/// A list Parse Server may pass as a comma-separated string or as an array of strings.
fn comma_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List {
        Text(String),
        Items(Vec<String>),
    }
    Ok(
        Option::<List>::deserialize(deserializer)?.map(|list| match list {
            List::Text(text) => text,
            List::Items(items) => items.join(","),
        }),
    )
}

/// A beforeFind call: a client is about to find, get or count objects of a class.
///
/// Return an error to refuse the query (the client gets code 141 and the message); the
/// query itself cannot be changed through a webhook. An `include` runs the included
/// class's find triggers too, as a get.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FindRequest {
    /// The class queried.
    pub class_name: String,
    /// The query.
    pub query: Query,
    /// Whether the client asked for a count.
    pub count: bool,
    /// Whether this is a get by id (`GET /classes/<class>/<id>`).
    pub is_get: bool,
    /// Whether the client used the master key.
    pub master: bool,
    /// Whether the client used the read-only master key.
    pub is_read_only: bool,
    /// The calling user, when the client sent a valid session token.
    pub user: Option<User>,
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

impl FindRequest {
    /// A request for a find on `class_name` with this query and nothing else, for unit
    /// tests of handlers.
    pub fn new(class_name: impl Into<String>, query: Query) -> Self {
        FindRequest {
            parse: None,
            class_name: class_name.into(),
            query,
            count: false,
            is_get: false,
            master: false,
            is_read_only: false,
            user: None,
            installation_id: None,
            context: Map::new(),
            headers: Headers::default(),
            ip: None,
        }
    }
}

/// An afterFind call: the results of a find or get, before the client receives them.
///
/// Return an error to fail the query (code 141). The results cannot be changed through a
/// webhook: Parse Server turns every object a webhook sends back into `{}` (and some
/// replies crash it), so the framework always answers `{}` on success. The objects are
/// decoded field by field only as they are read.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AfterFindRequest {
    /// The class queried.
    pub class_name: String,
    /// The results, each with its `className` (Parse Server omits it) and its fields in
    /// REST encoding. Empty for a count.
    pub objects: Vec<ParseObject>,
    /// The query.
    pub query: Query,
    /// Whether this is a get by id.
    pub is_get: bool,
    /// Whether the client used the master key.
    pub master: bool,
    /// Whether the client used the read-only master key.
    pub is_read_only: bool,
    /// The calling user, when the client sent a valid session token.
    pub user: Option<User>,
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

pub(super) fn decode_find(
    body: Body<'_>,
    class_name: &str,
    trigger: Trigger,
) -> Result<FindRequest, BadRequest> {
    Ok(FindRequest {
        parse: None,
        class_name: class_name.to_owned(),
        query: body.query(trigger)?,
        count: body.count.unwrap_or(false),
        is_get: body.is_get.unwrap_or(false),
        master: body.master.unwrap_or(false),
        is_read_only: body.is_read_only.unwrap_or(false),
        user: body.user,
        installation_id: body.installation_id,
        context: body.context.unwrap_or_default(),
        headers: body.headers.unwrap_or_default(),
        ip: body.ip,
    })
}

pub(super) fn decode_after_find(
    body: Body<'_>,
    class_name: &str,
    trigger: Trigger,
) -> Result<AfterFindRequest, BadRequest> {
    let query = body.query(trigger)?;
    // Each result is split into fields only when the handler looks at it.
    let objects = body
        .objects
        .unwrap_or_default()
        .into_iter()
        .map(|text| {
            if !text.get().starts_with('{') {
                return Err(BadRequest::new(format!(
                    "the {trigger} call's `objects` holds something other than objects"
                )));
            }
            check_result_class(text.get(), class_name)?;
            Ok(ParseObject::received(Fields::unsplit(
                text,
                Some(class_name),
            )))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AfterFindRequest {
        parse: None,
        class_name: class_name.to_owned(),
        objects,
        query,
        is_get: body.is_get.unwrap_or(false),
        master: body.master.unwrap_or(false),
        is_read_only: body.is_read_only.unwrap_or(false),
        user: body.user,
        installation_id: body.installation_id,
        context: body.context.unwrap_or_default(),
        headers: body.headers.unwrap_or_default(),
        ip: body.ip,
    })
}

/// Refuses a result whose own `className` is not the route's. Parse Server sends results
/// without one, so the text is read for it only when it holds the word (or an escape that
/// could spell it); an included object inside a result has a `className` of its own, which
/// is not looked at.
fn check_result_class(text: &str, class_name: &str) -> Result<(), BadRequest> {
    if !text.contains("className") && !text.contains("\\u") {
        return Ok(());
    }
    #[derive(serde::Deserialize)]
    struct ClassOnly {
        #[serde(rename = "className")]
        class_name: Option<Value>,
    }
    let sent = serde_json::from_str::<ClassOnly>(text)
        .map_err(|_| BadRequest::new("a result of the afterFind call is not an object".to_owned()))?
        .class_name;
    match sent {
        None => Ok(()),
        Some(Value::String(sent)) if sent == class_name => Ok(()),
        Some(sent) => Err(BadRequest {
            message: format!(
                "a result of the afterFind call has className {sent} but was sent to the route \
                 of class `{class_name}`"
            ),
            summary: format!(
                "a result of the afterFind call has another className than `{class_name}`, its \
                 route's"
            ),
        }),
    }
}
