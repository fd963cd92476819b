//! The hook kinds: for each, the request its handler receives, how its calls are decoded,
//! and the reply Parse Server needs. Each kind is one [`Kind`] impl here; its request type
//! lives in the module of its family.

mod auth;
mod file;
mod find;
mod live_query;

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use auth::{LoginRequest, LogoutRequest, PasswordResetRequest};
pub use file::FileRequest;
pub use find::{AfterFindRequest, FindRequest, Query};
pub use live_query::{ConnectRequest, EventRequest, LiveQuery, SubscribeRequest};

use crate::fields::Fields;
use crate::handler::{
    empty_reply, BeforeSaveOutput, FunctionOutput, Invocation, Kind, Outcome, Returns,
    TriggerOutput,
};
use crate::object::SaveContext;
use crate::request::{
    check_trigger_name, decode_body, decode_function, decode_trigger, received_object, BadRequest,
};
use crate::typed;
use crate::types::File;
use crate::{reply, Error, FunctionRequest, Hook, ParseObject, Trigger, TriggerRequest, User};

/// The trigger of a call's route (functions have none).
fn route_trigger(invocation: &Invocation) -> Trigger {
    match &*invocation.hook {
        Hook::Trigger { trigger, .. } => *trigger,
        Hook::Function { .. } => unreachable!("a trigger kind is only registered for triggers"),
    }
}

/// Cloud functions with parameters of type `P`.
pub(crate) struct Function<P>(PhantomData<fn() -> P>);

impl<P: DeserializeOwned + Send + 'static> Kind for Function<P> {
    type Request = FunctionRequest<P>;
    type Value = Vec<u8>;
    type Kept = ();

    fn decode(invocation: &Invocation) -> Result<(Self::Request, ()), Outcome> {
        match decode_function::<P>(&invocation.body, &invocation.name) {
            Ok(Ok(request)) => Ok((request, ())),
            Ok(Err(params_error)) => Err(Outcome::Failed(params_error)),
            Err(bad) => Err(Outcome::BadRequest(bad)),
        }
    }

    fn reply(result: Result<Vec<u8>, Error>, (): ()) -> Outcome {
        match result {
            Ok(body) => Outcome::Success(body),
            Err(error) => Outcome::Failed(error),
        }
    }

    /// The client's result is `null`.
    fn skipped() -> Outcome {
        Outcome::Success(br#"{"success":null}"#.to_vec())
    }
}

impl<P: DeserializeOwned + Send + 'static, T: FunctionOutput> Returns<Function<P>> for T {
    fn into_value(self) -> Result<Vec<u8>, Error> {
        let value = self.into_result()?;
        reply::success(&value).map_err(|error| {
            Error::internal(format!(
                "the function's result cannot be encoded as JSON: {error}"
            ))
        })
    }
}

/// What the objects of a trigger request may be: [`ParseObject`] or the user's type.
pub(crate) trait ObjectData: DeserializeOwned + Serialize + Send + 'static {}

impl<T: DeserializeOwned + Serialize + Send + 'static> ObjectData for T {}

/// beforeSave of a class, with objects of type `T`.
pub(crate) struct BeforeSave<T>(PhantomData<fn() -> T>);

/// What a beforeSave call keeps for its reply.
pub(crate) struct SaveKept {
    context: SaveContext,
    /// The received object, when the handler got it decoded into its own type.
    received: Option<ParseObject>,
}

impl<T: ObjectData> Kind for BeforeSave<T> {
    type Request = TriggerRequest<T>;
    type Value = Option<T>;
    type Kept = SaveKept;

    fn decode(invocation: &Invocation) -> Result<(TriggerRequest<T>, SaveKept), Outcome> {
        let mut request = decode_trigger(&invocation.body, &invocation.name, Trigger::BeforeSave)
            .map_err(Outcome::BadRequest)?;
        let context = SaveContext::attach(&mut request);
        if typed::is_parse_object::<T>() {
            let request =
                typed::same_type(request).unwrap_or_else(|_| unreachable!("T is ParseObject"));
            return Ok((
                request,
                SaveKept {
                    context,
                    received: None,
                },
            ));
        }
        let received = request.object.clone();
        let request = request
            .try_map(typed::decode::<T>)
            .map_err(Outcome::Failed)?;
        Ok((
            request,
            SaveKept {
                context,
                received: Some(received),
            },
        ))
    }

    fn reply(result: Result<Option<T>, Error>, kept: SaveKept) -> Outcome {
        let SaveKept { context, received } = kept;
        let object = match (result, received) {
            (Err(error), _) => return Outcome::Failed(error),
            (Ok(Some(returned)), None) => typed::same_type::<T, ParseObject>(returned)
                .unwrap_or_else(|_| unreachable!("T is ParseObject")),
            (Ok(Some(returned)), Some(mut received)) => {
                if let Err(error) = typed::apply(&mut received, &returned) {
                    return Outcome::Failed(error);
                }
                received
            }
            // The handler may have changed the request's object and returned `()`, as
            // Cloud Code handlers do: those changes are saved too.
            (Ok(None), None) => match context.handed_back() {
                Some(object) => object,
                None => return Outcome::Success(reply::NO_CHANGE.to_vec()),
            },
            (Ok(None), Some(_)) => return Outcome::Success(reply::NO_CHANGE.to_vec()),
        };
        match reply::before_save(&object, context.original()) {
            Ok(body) => Outcome::Success(body),
            Err(why) => Outcome::Failed(Error::internal(why)),
        }
    }

    /// The client's data is saved as sent.
    fn skipped() -> Outcome {
        Outcome::Success(reply::NO_CHANGE.to_vec())
    }
}

impl<T: ObjectData, O: BeforeSaveOutput<T>> Returns<BeforeSave<T>> for O {
    fn into_value(self) -> Result<Option<T>, Error> {
        self.into_result()
    }
}

/// afterSave, beforeDelete and afterDelete of a class, with objects of type `T`: success
/// is `{"success": true}`.
pub(crate) struct ObjectTrigger<T>(PhantomData<fn() -> T>);

impl<T: ObjectData> Kind for ObjectTrigger<T> {
    type Request = TriggerRequest<T>;
    type Value = ();
    type Kept = ();

    fn decode(invocation: &Invocation) -> Result<(TriggerRequest<T>, ()), Outcome> {
        decode_trigger(
            &invocation.body,
            &invocation.name,
            route_trigger(invocation),
        )
        .map_err(Outcome::BadRequest)?
        .try_map(typed::decode::<T>)
        .map(|request| (request, ()))
        .map_err(Outcome::Failed)
    }

    fn reply(result: Result<(), Error>, (): ()) -> Outcome {
        match result {
            Ok(()) => Outcome::Success(reply::SUCCESS_TRUE.to_vec()),
            Err(error) => Outcome::Failed(error),
        }
    }

    fn skipped() -> Outcome {
        Outcome::Success(reply::SUCCESS_TRUE.to_vec())
    }
}

impl<T: ObjectData, O: TriggerOutput> Returns<ObjectTrigger<T>> for O {
    fn into_value(self) -> Result<(), Error> {
        self.into_result()
    }
}

/// The kinds whose success Parse Server ignores, so that they answer `{}` or an error,
/// whatever the handler returns: one line each.
macro_rules! empty_reply_kind {
    ($(#[$doc:meta])* $kind:ident => $request:ty, $decode:path $(, $pseudo:literal)?) => {
        $(#[$doc])*
        pub(crate) struct $kind;

        impl Kind for $kind {
            type Request = $request;
            type Value = ();
            type Kept = ();
            $(const PSEUDO_CLASS: bool = $pseudo;)?

            fn decode(invocation: &Invocation) -> Result<($request, ()), Outcome> {
                let body: Body<'_> = decode_body(&invocation.body).map_err(Outcome::BadRequest)?;
                let trigger = route_trigger(invocation);
                check_trigger_name(body.trigger_name.as_deref(), trigger)
                    .map_err(Outcome::BadRequest)?;
                $decode(body, &invocation.name, trigger)
                    .map(|request| (request, ()))
                    .map_err(Outcome::BadRequest)
            }

            fn reply(result: Result<(), Error>, (): ()) -> Outcome {
                empty_reply(result)
            }
        }

        impl<T: TriggerOutput> Returns<$kind> for T {
            fn into_value(self) -> Result<(), Error> {
                self.into_result()
            }
        }
    };
}

empty_reply_kind!(
    /// beforeFind of a class.
    BeforeFind => FindRequest, find::decode_find
);
empty_reply_kind!(
    /// afterFind of a class.
    AfterFind => AfterFindRequest, find::decode_after_find
);
empty_reply_kind!(
    /// beforeLogin and afterLogin (`_User`).
    Login => LoginRequest, auth::decode_login
);
empty_reply_kind!(
    /// afterLogout (`_Session`).
    Logout => LogoutRequest, auth::decode_logout
);
empty_reply_kind!(
    /// beforePasswordResetRequest (`_User`).
    PasswordReset => PasswordResetRequest, auth::decode_password_reset
);
empty_reply_kind!(
    /// The four file triggers (`@File`).
    FileTrigger => FileRequest, file::decode_file, true
);
empty_reply_kind!(
    /// LiveQuery's beforeConnect (`@Connect`).
    Connect => ConnectRequest, live_query::decode_connect, true
);
empty_reply_kind!(
    /// LiveQuery's beforeSubscribe of a class.
    Subscribe => SubscribeRequest, live_query::decode_subscribe
);
empty_reply_kind!(
    /// LiveQuery's afterEvent of a class.
    Event => EventRequest, live_query::decode_event
);

/// Every field the bodies of the kinds above may carry; each kind takes what it has.
/// Parse Server's internals (`log`, beforeConnect's serialised `client`) are skipped
/// unread.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Body<'a> {
    #[serde(borrow)]
    trigger_name: Option<Cow<'a, str>>,
    master: Option<bool>,
    is_read_only: Option<bool>,
    user: Option<User>,
    installation_id: Option<String>,
    context: Option<Map<String, Value>>,
    headers: Option<crate::Headers>,
    ip: Option<String>,
    object: Option<Fields>,
    original: Option<Fields>,
    #[serde(borrow)]
    query: Option<&'a serde_json::value::RawValue>,
    count: Option<bool>,
    is_get: Option<bool>,
    objects: Option<Vec<Box<serde_json::value::RawValue>>>,
    file: Option<File>,
    file_size: Option<u64>,
    event: Option<String>,
    use_master_key: Option<bool>,
    session_token: Option<String>,
    request_id: Option<i64>,
    clients: Option<u64>,
    subscriptions: Option<u64>,
}

impl Body<'_> {
    /// The object a kind requires, checked against the class of its route.
    fn object(&mut self, class_name: &str, trigger: Trigger) -> Result<ParseObject, BadRequest> {
        let object = self
            .object
            .take()
            .ok_or_else(|| BadRequest::new(format!("the {trigger} call has no `object`")))?;
        received_object(object, class_name, "object")
    }

    /// The `query`, decoded as `T` (`T::default()` when there is none).
    fn query<T: DeserializeOwned + Default>(&self, trigger: Trigger) -> Result<T, BadRequest> {
        match self.query {
            None => Ok(T::default()),
            Some(raw) => serde_json::from_str(raw.get()).map_err(|error| {
                BadRequest::new(format!(
                    "the {trigger} call's `query` is not a query: {}",
                    crate::object::without_position(&error)
                ))
            }),
        }
    }

    fn original(&mut self, class_name: &str) -> Result<Option<ParseObject>, BadRequest> {
        self.original
            .take()
            .map(|original| received_object(original, class_name, "original"))
            .transpose()
    }
}

/// A credential kept out of `Debug` output.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Secret(Option<String>);

impl Secret {
    pub(crate) fn get(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(_) => f.write_str("Some(<redacted>)"),
            None => f.write_str("None"),
        }
    }
}

/// What the validators read of each request.
mod callers {
    use super::*;
    use crate::validators::{Caller, CallerUser};

    macro_rules! caller {
        ($($request:ty => |$req:ident| $master:expr, $user:expr;)*) => {$(
            #[allow(unused_variables)]
            impl Caller for $request {
                fn set_parse(&mut self, client: Option<crate::ParseClient>) {
                    self.parse = client;
                }

                fn master(&self) -> bool {
                    let $req = self;
                    $master
                }

                fn caller_user(&self) -> Option<CallerUser<'_>> {
                    let $req = self;
                    $user
                }
            }
        )*};
    }

    caller! {
        FindRequest => |req| req.master, req.user.as_ref().map(CallerUser::User);
        AfterFindRequest => |req| req.master, req.user.as_ref().map(CallerUser::User);
        LoginRequest => |req| req.master, req.user.as_ref().map(CallerUser::User);
        LogoutRequest => |req| req.master, req.user.as_ref().map(CallerUser::User);
        PasswordResetRequest => |req| req.master, None;
        FileRequest => |req| req.master, req.user.as_ref().map(CallerUser::User);
        ConnectRequest => |req| req.master, req.user.as_ref().map(CallerUser::User);
        SubscribeRequest => |req| false, req.user.as_ref().map(CallerUser::User);
        EventRequest => |req| req.master, req.user.as_ref().map(CallerUser::User);
    }

    impl<P> Caller for FunctionRequest<P> {
        fn set_parse(&mut self, client: Option<crate::ParseClient>) {
            self.parse = client;
        }

        fn master(&self) -> bool {
            self.master
        }

        fn caller_user(&self) -> Option<CallerUser<'_>> {
            self.user.as_ref().map(CallerUser::User)
        }
    }

    impl<T: 'static> Caller for TriggerRequest<T> {
        fn set_parse(&mut self, client: Option<crate::ParseClient>) {
            self.parse = client;
        }

        fn master(&self) -> bool {
            self.master
        }

        /// The caller; on a sign-up (a `_User` created without a session), the new user,
        /// as Parse Server's validators take it.
        fn caller_user(&self) -> Option<CallerUser<'_>> {
            if let Some(user) = &self.user {
                return Some(CallerUser::User(user));
            }
            let object = (&self.object as &dyn std::any::Any).downcast_ref::<ParseObject>()?;
            (self.class_name() == "_User" && self.original.is_none() && object.id().is_none())
                .then_some(CallerUser::SigningUp(object))
        }
    }
}

/// `parse()` on every request type: Parse Server as the caller of this request, or as
/// master.
mod parse_api {
    use super::*;
    use crate::client::ParseApi;

    macro_rules! parse_api {
        ($($request:ty => |$req:ident| $token:expr, $installation:expr;)*) => {$(
            impl $request {
                /// Parse Server, to call back: `.as_caller()` (this request's session
                /// token, or the master key if the caller used it, or neither) or
                /// `.as_master()`. See [`ParseApi`].
                pub fn parse(&self) -> ParseApi {
                    let $req = self;
                    ParseApi::new(self.parse.as_ref(), self.master, $token, $installation)
                }
            }
        )*};
    }

    fn token(user: &Option<User>) -> Option<&str> {
        user.as_ref().and_then(User::session_token)
    }

    parse_api! {
        FindRequest => |req| token(&req.user), req.installation_id.as_deref();
        AfterFindRequest => |req| token(&req.user), req.installation_id.as_deref();
        LoginRequest => |req| token(&req.user), req.installation_id.as_deref();
        LogoutRequest => |req| None, req.installation_id.as_deref();
        PasswordResetRequest => |req| None, req.installation_id.as_deref();
        FileRequest => |req| token(&req.user), req.installation_id.as_deref();
        ConnectRequest => |req| req.session_token(), req.installation_id.as_deref();
        EventRequest => |req| req.session_token(), req.installation_id.as_deref();
    }

    impl SubscribeRequest {
        /// Parse Server, to call back: `.as_caller()` (this subscriber's session token, or
        /// neither) or `.as_master()`. See [`ParseApi`].
        pub fn parse(&self) -> ParseApi {
            ParseApi::new(
                self.parse.as_ref(),
                false,
                self.session_token(),
                self.installation_id.as_deref(),
            )
        }
    }

    impl<P> FunctionRequest<P> {
        /// Parse Server, to call back: `.as_caller()` (this request's session token, or
        /// the master key if the caller used it, or neither) or `.as_master()`. See
        /// [`ParseApi`].
        pub fn parse(&self) -> ParseApi {
            ParseApi::new(
                self.parse.as_ref(),
                self.master,
                token(&self.user),
                self.installation_id.as_deref(),
            )
        }
    }

    impl<T> TriggerRequest<T> {
        /// Parse Server, to call back: `.as_caller()` (this request's session token, or
        /// the master key if the caller used it, or neither) or `.as_master()`. Writes
        /// through it to this trigger's own class run this trigger again: mark them with
        /// `.context(...)` to tell them apart. See [`ParseApi`].
        pub fn parse(&self) -> ParseApi {
            ParseApi::new(
                self.parse.as_ref(),
                self.master,
                token(&self.user),
                self.installation_id.as_deref(),
            )
        }
    }
}
