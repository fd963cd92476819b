//! Handlers behind one type: a function from the request body to an [`Outcome`], built from
//! the user's async function by a small shim per hook kind.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::request::{decode_function, decode_trigger, BadRequest};
use crate::{reply, Error, FunctionRequest, ParseObject, Trigger, TriggerRequest};

/// A boxed, sendable future.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What one call produced.
pub(crate) enum Outcome {
    /// The handler succeeded: this JSON body goes back with status 200.
    Success(Vec<u8>),
    /// The handler (or the decoding of its parameters) failed: `{"error": ...}` with 200.
    Failed(Error),
    /// The body is not a webhook request for this route: 400.
    BadRequest(BadRequest),
}

/// One call: the body, and the function or class name of the route it came to.
pub(crate) struct Invocation {
    pub(crate) body: Bytes,
    pub(crate) name: Arc<str>,
}

type ErasedFn = dyn Fn(Invocation) -> BoxFuture<Outcome> + Send + Sync;

/// A type-erased handler.
#[derive(Clone)]
pub(crate) struct Handler {
    call: Arc<ErasedFn>,
}

impl Handler {
    pub(crate) fn call(&self, invocation: Invocation) -> BoxFuture<Outcome> {
        (self.call)(invocation)
    }

    pub(crate) fn function<F, P, Fut>(handler: F) -> Handler
    where
        F: Fn(FunctionRequest<P>) -> Fut + Send + Sync + 'static,
        P: DeserializeOwned + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: FunctionOutput,
    {
        let handler = Arc::new(handler);
        Handler {
            call: Arc::new(move |invocation: Invocation| {
                let handler = Arc::clone(&handler);
                Box::pin(async move {
                    let request = match decode_function::<P>(&invocation.body, &invocation.name) {
                        Ok(Ok(request)) => request,
                        Ok(Err(params_error)) => return Outcome::Failed(params_error),
                        Err(bad) => return Outcome::BadRequest(bad),
                    };
                    drop(invocation);
                    match handler(request).await.into_result() {
                        Ok(value) => match reply::success(&value) {
                            Ok(body) => Outcome::Success(body),
                            Err(error) => Outcome::Failed(Error::internal(format!(
                                "the function's result cannot be encoded as JSON: {error}"
                            ))),
                        },
                        Err(error) => Outcome::Failed(error),
                    }
                })
            }),
        }
    }

    pub(crate) fn before_save<F, Fut>(handler: F) -> Handler
    where
        F: Fn(TriggerRequest) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: BeforeSaveOutput,
    {
        let handler = Arc::new(handler);
        Handler {
            call: Arc::new(move |invocation: Invocation| {
                let handler = Arc::clone(&handler);
                Box::pin(async move {
                    let request = match decode_trigger(
                        &invocation.body,
                        &invocation.name,
                        Trigger::BeforeSave,
                    ) {
                        Ok(request) => request,
                        Err(bad) => return Outcome::BadRequest(bad),
                    };
                    drop(invocation);
                    // Shares the original's fields with the request (no copy) to diff against.
                    let original = request
                        .original
                        .as_ref()
                        .map(|o| Arc::clone(o.shared_fields()));
                    match handler(request).await.into_result() {
                        Ok(None) => Outcome::Success(reply::NO_CHANGE.to_vec()),
                        Ok(Some(object)) => {
                            match reply::before_save(&object, original.as_deref()) {
                                Ok(body) => Outcome::Success(body),
                                Err(error) => Outcome::Failed(Error::internal(format!(
                                    "the object cannot be encoded as JSON: {error}"
                                ))),
                            }
                        }
                        Err(error) => Outcome::Failed(error),
                    }
                })
            }),
        }
    }

    /// afterSave, beforeDelete and afterDelete: success is always `{"success": true}`.
    pub(crate) fn trigger<F, Fut>(trigger: Trigger, handler: F) -> Handler
    where
        F: Fn(TriggerRequest) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: TriggerOutput,
    {
        let handler = Arc::new(handler);
        Handler {
            call: Arc::new(move |invocation: Invocation| {
                let handler = Arc::clone(&handler);
                Box::pin(async move {
                    let request = match decode_trigger(&invocation.body, &invocation.name, trigger)
                    {
                        Ok(request) => request,
                        Err(bad) => return Outcome::BadRequest(bad),
                    };
                    drop(invocation);
                    match handler(request).await.into_result() {
                        Ok(()) => Outcome::Success(reply::SUCCESS_TRUE.to_vec()),
                        Err(error) => Outcome::Failed(error),
                    }
                })
            }),
        }
    }
}

/// What a cloud function may return: `Result<T, E>` where `T` serializes to JSON (the
/// client's `result`) and `E` converts into [`Error`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a cloud function",
    label = "a cloud function returns `Result<T, E>`",
    note = "return `Result<T, moralis_webhooks::Error>` where `T: serde::Serialize`, e.g. `Result<String, Error>`"
)]
pub trait FunctionOutput: Send {
    /// The successful value.
    type Value: Serialize;
    /// The value, or the error to report.
    fn into_result(self) -> Result<Self::Value, Error>;
}

impl<T, E> FunctionOutput for Result<T, E>
where
    T: Serialize + Send,
    E: Into<Error> + Send,
{
    type Value = T;

    fn into_result(self) -> Result<T, Error> {
        self.map_err(Into::into)
    }
}

/// What a beforeSave handler may return: the object to save (`ParseObject`, normally the
/// request's object, changed), or `()` to accept the client's data unchanged; either one
/// bare or in a `Result<_, E>` whose error cancels the save.
///
/// Return the request's `object`: the framework knows what the client and the handler
/// changed in it. A newly built `ParseObject` returned on update writes only its own fields
/// (those that differ from the stored object) and drops the client's changes, which is
/// rarely what is wanted.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a beforeSave handler",
    label = "a beforeSave handler returns `Result<ParseObject, Error>` or `Result<(), Error>`",
    note = "return the request's object (changed) to change what is saved, or `()` to save the client's data as sent"
)]
pub trait BeforeSaveOutput: Send {
    /// The object to save (`None`: unchanged), or the error that cancels the save.
    fn into_result(self) -> Result<Option<ParseObject>, Error>;
}

impl BeforeSaveOutput for ParseObject {
    fn into_result(self) -> Result<Option<ParseObject>, Error> {
        Ok(Some(self))
    }
}

impl BeforeSaveOutput for () {
    fn into_result(self) -> Result<Option<ParseObject>, Error> {
        Ok(None)
    }
}

impl BeforeSaveOutput for Option<ParseObject> {
    fn into_result(self) -> Result<Option<ParseObject>, Error> {
        Ok(self)
    }
}

impl<T: BeforeSaveOutput, E: Into<Error> + Send> BeforeSaveOutput for Result<T, E> {
    fn into_result(self) -> Result<Option<ParseObject>, Error> {
        self.map_err(Into::into)?.into_result()
    }
}

/// What an afterSave, beforeDelete or afterDelete handler may return: `()` or
/// `Result<(), E>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from an afterSave, beforeDelete or afterDelete handler",
    label = "these handlers return `Result<(), Error>` or `()`",
    note = "Parse Server ignores what these triggers return except an error; an afterSave object would even replace the client's response"
)]
pub trait TriggerOutput: Send {
    /// Success, or the error to report.
    fn into_result(self) -> Result<(), Error>;
}

impl TriggerOutput for () {
    fn into_result(self) -> Result<(), Error> {
        Ok(())
    }
}

impl<E: Into<Error> + Send> TriggerOutput for Result<(), E> {
    fn into_result(self) -> Result<(), Error> {
        self.map_err(Into::into)
    }
}
