//! The validators of [`HandlerSettings`], as Parse Server's Cloud Code runs them (its
//! `builtInTriggerValidator`), with its messages.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{Error, HandlerSettings, ParseObject, User};

/// The user a validator checks: the caller, or the `_User` signing up.
pub(crate) enum CallerUser<'a> {
    User(&'a User),
    SigningUp(&'a ParseObject),
}

impl CallerUser<'_> {
    fn get_raw(&self, key: &str) -> Option<&Value> {
        match self {
            CallerUser::User(user) => user.get_raw(key),
            CallerUser::SigningUp(object) => object.get_raw(key),
        }
    }

    fn id(&self) -> Option<&str> {
        match self {
            CallerUser::User(user) => Some(user.id()),
            CallerUser::SigningUp(object) => object.id(),
        }
    }

    fn session_token(&self) -> Option<&str> {
        match self {
            CallerUser::User(user) => user.session_token(),
            CallerUser::SigningUp(_) => None,
        }
    }
}

/// What validators and the Parse client read of a request.
pub(crate) trait Caller {
    /// Gives the request the server's Parse client, for `req.parse()`.
    fn set_parse(&mut self, client: Option<crate::ParseClient>);
    /// Whether the caller used the master key.
    fn master(&self) -> bool;
    /// The user validators check, if there is one.
    fn caller_user(&self) -> Option<CallerUser<'_>>;
}

/// What validation decided.
pub(crate) enum Verdict {
    /// Run the handler.
    Run,
    /// The master key and `skip_with_master_key`: answer as if the handler succeeded.
    Skip,
}

/// A boxed, sendable future.
type RolesFuture = Pin<Box<dyn Future<Output = Result<Vec<String>, Error>> + Send>>;

/// Reads the role names of the user of a session token, inherited ones included.
pub(crate) type RoleReader = Arc<dyn Fn(String) -> RolesFuture + Send + Sync>;

/// How long a user's roles are kept.
const ROLES_KEPT: Duration = Duration::from_secs(5);

/// The roles read per user id, with when they were read.
type KeptRoles = Arc<Mutex<HashMap<String, (Instant, Vec<String>)>>>;

/// Role lookups, kept briefly per user.
#[derive(Clone)]
pub(crate) struct Roles {
    read: RoleReader,
    kept: KeptRoles,
}

impl Roles {
    pub(crate) fn new(read: RoleReader) -> Self {
        Roles {
            read,
            kept: Arc::default(),
        }
    }

    async fn of(&self, user_id: &str, session_token: &str) -> Result<Vec<String>, Error> {
        {
            let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((at, roles)) = kept.get(user_id) {
                if at.elapsed() < ROLES_KEPT {
                    return Ok(roles.clone());
                }
            }
        }
        let roles = (self.read)(session_token.to_owned()).await?;
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.retain(|_, (at, _)| at.elapsed() < ROLES_KEPT);
        kept.insert(user_id.to_owned(), (Instant::now(), roles.clone()));
        Ok(roles)
    }
}

fn refuse(message: &str) -> Error {
    Error::new(message)
}

/// What the validators that need no lookup decided; the role validators, if any, come
/// next (see [`Pending::finish`]).
pub(crate) enum Pending {
    /// Decided.
    Done(Result<Verdict, Error>),
    /// The user's roles must be read: then the roles decide, and after them `keys`.
    Roles {
        user: Option<(String, String)>,
        keys: Result<(), Error>,
    },
}

/// Runs the validators of `settings` on a request, up to the role lookup.
pub(crate) fn validate(settings: &HandlerSettings, request: &(impl Caller + ?Sized)) -> Pending {
    if request.master() {
        // As in Parse Server, the master key passes every validator.
        return Pending::Done(Ok(if settings.skip_with_master_key {
            Verdict::Skip
        } else {
            Verdict::Run
        }));
    }
    let user = request.caller_user();
    let needs_roles =
        !settings.require_any_role.is_empty() || !settings.require_all_roles.is_empty();
    if (settings.require_user || needs_roles) && user.is_none() {
        return Pending::Done(Err(refuse("Validation failed. Please login to continue.")));
    }
    if settings.require_master {
        return Pending::Done(Err(refuse(
            "Validation failed. Master key is required to complete this request.",
        )));
    }
    let keys = check_user_keys(settings, user.as_ref());
    match (needs_roles, &user) {
        (true, Some(user)) => Pending::Roles {
            // A user signing up has no session yet, and no role.
            user: user
                .id()
                .zip(user.session_token())
                .map(|(id, token)| (id.to_owned(), token.to_owned())),
            keys,
        },
        _ => Pending::Done(keys.map(|()| Verdict::Run)),
    }
}

fn check_user_keys(settings: &HandlerSettings, user: Option<&CallerUser<'_>>) -> Result<(), Error> {
    for key in &settings.require_user_keys {
        let Some(user) = user else {
            return Err(refuse("Please login to make this request."));
        };
        if user.get_raw(key).is_none_or(Value::is_null) {
            return Err(Error::new(format!(
                "Validation failed. Please set data for {key} on your account."
            )));
        }
    }
    Ok(())
}

impl Pending {
    /// The verdict, reading the user's roles if a role validator needs them.
    pub(crate) async fn finish(
        self,
        settings: &HandlerSettings,
        roles: Option<&Roles>,
    ) -> Result<Verdict, Error> {
        let (user, keys) = match self {
            Pending::Done(verdict) => return verdict,
            Pending::Roles { user, keys } => (user, keys),
        };
        let held = match (roles, user) {
            (Some(roles), Some((id, token))) => roles.of(&id, &token).await?,
            (None, _) => {
                return Err(Error::internal(
                    "role validators need a Parse client (PARSE_SERVER_URL and \
                     PARSE_SERVER_APPLICATION_ID)",
                ))
            }
            (Some(_), None) => Vec::new(),
        };
        let holds = |role: &String| held.iter().any(|held| held == role);
        if !settings.require_any_role.is_empty() && !settings.require_any_role.iter().any(holds) {
            return Err(refuse(
                "Validation failed. User does not match the required roles.",
            ));
        }
        if !settings.require_all_roles.iter().all(holds) {
            return Err(refuse(
                "Validation failed. User does not match all the required roles.",
            ));
        }
        keys.map(|()| Verdict::Run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Request(Option<User>);

    impl Caller for Request {
        fn set_parse(&mut self, _: Option<crate::ParseClient>) {}

        fn master(&self) -> bool {
            false
        }

        fn caller_user(&self) -> Option<CallerUser<'_>> {
            self.0.as_ref().map(CallerUser::User)
        }
    }

    fn ada() -> Request {
        let fields = serde_json::json!({"objectId": "u1", "sessionToken": "r:t"});
        Request(Some(User::from_map(fields.as_object().unwrap().clone())))
    }

    #[tokio::test]
    async fn roles_decide_with_parses_messages_and_are_kept_briefly() {
        let reads = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&reads);
        let roles = Roles::new(Arc::new(move |token: String| {
            assert_eq!(token, "r:t");
            counter.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Ok(vec!["Staff".to_owned(), "Editors".to_owned()]) })
        }));
        let verdict = |settings: HandlerSettings, request: Request| {
            let roles = roles.clone();
            async move {
                validate(&settings, &request)
                    .finish(&settings, Some(&roles))
                    .await
                    .map(|_| ())
                    .map_err(|e| e.client_message().to_owned())
            }
        };
        assert_eq!(
            verdict(
                HandlerSettings::new().require_any_role(["Admins", "Staff"]),
                ada()
            )
            .await,
            Ok(())
        );
        assert_eq!(
            verdict(HandlerSettings::new().require_any_role(["Admins"]), ada()).await,
            Err("Validation failed. User does not match the required roles.".to_owned())
        );
        assert_eq!(
            verdict(
                HandlerSettings::new().require_all_roles(["Staff", "Editors"]),
                ada()
            )
            .await,
            Ok(())
        );
        assert_eq!(
            verdict(
                HandlerSettings::new().require_all_roles(["Staff", "Admins"]),
                ada()
            )
            .await,
            Err("Validation failed. User does not match all the required roles.".to_owned())
        );
        assert_eq!(
            verdict(
                HandlerSettings::new().require_any_role(["Staff"]),
                Request(None)
            )
            .await,
            Err("Validation failed. Please login to continue.".to_owned())
        );
        assert_eq!(
            reads.load(Ordering::SeqCst),
            1,
            "one lookup, kept for the next calls"
        );
    }
}
