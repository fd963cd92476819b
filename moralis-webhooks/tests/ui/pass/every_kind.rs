//! Every attribute of the kinds Parse Server calls besides functions and object triggers,
//! with both accepted return types; and handlers whose names could collide with the names
//! the expansion uses (`webhooks`, `location`, `register`, `request`).

#![deny(warnings)]

use moralis_webhooks::{
    after_delete_file, after_event, after_find, after_login, after_logout, after_save_file,
    before_connect, before_delete_file, before_find, before_login, before_password_reset_request,
    before_save_file, before_subscribe, cloud_function, AfterFindRequest, ConnectRequest, Error,
    EventRequest, FileRequest, FindRequest, FunctionRequest, LoginRequest, LogoutRequest,
    PasswordResetRequest, Query, SubscribeRequest, Webhooks,
};

#[before_find("GameScore")]
async fn webhooks(req: FindRequest) -> Result<(), Error> {
    if req.query.limit == Some(0) {
        return Err(Error::new("no"));
    }
    Ok(())
}

#[after_find("GameScore", timeout = 5)]
async fn location(req: AfterFindRequest) -> Result<(), Error> {
    let _ = req.objects.len();
    Ok(())
}

#[before_login]
async fn register(_req: LoginRequest) -> Result<(), Error> {
    Ok(())
}

#[after_login]
async fn request(_req: LoginRequest) {}

#[after_logout]
async fn bye(_req: LogoutRequest) {}

#[before_password_reset_request]
async fn reset(_req: PasswordResetRequest) -> Result<(), Error> {
    Ok(())
}

#[before_save_file]
async fn upload(req: FileRequest) -> Result<(), Error> {
    if req.file_size > Some(1 << 20) {
        return Err(Error::new("too large"));
    }
    Ok(())
}

#[after_save_file]
async fn uploaded(_req: FileRequest) {}

#[before_delete_file(timeout = 1)]
async fn deleting(_req: FileRequest) -> Result<(), Error> {
    Ok(())
}

#[after_delete_file]
async fn deleted(_req: FileRequest) {}

#[before_connect]
async fn connect(req: ConnectRequest) -> Result<(), Error> {
    match req.user {
        Some(_) => Ok(()),
        None => Err(Error::new("log in first")),
    }
}

#[before_subscribe("Message")]
async fn subscribe(_req: SubscribeRequest) -> Result<(), Error> {
    Ok(())
}

#[after_event("Message")]
async fn event(_req: EventRequest) {}

#[cloud_function("webhooks")]
async fn webhooks_function(_req: FunctionRequest) -> Result<&'static str, Error> {
    Ok("a function named like the expansion's names")
}

fn main() {
    // The user's functions are still ordinary functions.
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let refused = runtime.block_on(webhooks(FindRequest::new(
        "GameScore",
        serde_json::from_value::<Query>(serde_json::json!({"where": {}, "limit": 0})).unwrap(),
    )));
    assert_eq!(refused.unwrap_err().client_message(), "no");

    let attributes = Webhooks::from_attributes();
    let mut paths: Vec<String> = attributes.hooks().map(|(hook, _)| hook.path()).collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "/functions/webhooks",
            "/triggers/@Connect/beforeConnect",
            "/triggers/@File/afterDelete",
            "/triggers/@File/afterSave",
            "/triggers/@File/beforeDelete",
            "/triggers/@File/beforeSave",
            "/triggers/GameScore/afterFind",
            "/triggers/GameScore/beforeFind",
            "/triggers/Message/afterEvent",
            "/triggers/Message/beforeSubscribe",
            "/triggers/_Session/afterLogout",
            "/triggers/_User/afterLogin",
            "/triggers/_User/beforeLogin",
            "/triggers/_User/beforePasswordResetRequest",
        ]
    );
}
