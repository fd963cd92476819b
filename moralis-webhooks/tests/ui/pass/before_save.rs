//! Every accepted `#[before_save]` return type, and system classes.

#![deny(warnings)]

use moralis_webhooks::{before_save, Error, Hook, ParseObject, Trigger, TriggerRequest, Webhooks};

#[before_save("GameScore")]
async fn change(req: TriggerRequest) -> Result<ParseObject, Error> {
    let mut score = req.object;
    score.set("reviewed", true);
    Ok(score)
}

#[before_save("Player")]
async fn accept(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[before_save("Team")]
async fn change_infallibly(req: TriggerRequest) -> ParseObject {
    req.object
}

#[before_save("Match")]
async fn accept_infallibly(_req: TriggerRequest) {}

#[derive(Debug)]
struct MyError;

impl std::fmt::Display for MyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("my error")
    }
}

impl std::error::Error for MyError {}

#[before_save("League")]
async fn own_error(req: TriggerRequest) -> Result<ParseObject, MyError> {
    Ok(req.object)
}

#[before_save("_User")]
async fn user(req: TriggerRequest) -> Result<ParseObject, Error> {
    Ok(req.object)
}

#[before_save("_Installation")]
async fn installation(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[before_save("_Role")]
async fn role(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(future)
}

fn request(class_name: &str) -> TriggerRequest {
    TriggerRequest::new(Trigger::BeforeSave, ParseObject::new(class_name))
}

fn main() {
    let changed = block_on(change(request("GameScore"))).unwrap();
    assert_eq!(changed.get::<bool>("reviewed").unwrap(), true);
    block_on(accept(request("Player"))).unwrap();
    assert_eq!(
        block_on(change_infallibly(request("Team"))).class_name(),
        "Team"
    );
    block_on(accept_infallibly(request("Match")));
    block_on(own_error(request("League"))).unwrap();
    block_on(user(request("_User"))).unwrap();
    block_on(installation(request("_Installation"))).unwrap();
    block_on(role(request("_Role"))).unwrap();

    let webhooks = Webhooks::from_attributes();
    let mut classes: Vec<&str> = webhooks
        .hooks()
        .map(|(hook, _)| match hook {
            Hook::Trigger {
                class_name,
                trigger: Trigger::BeforeSave,
            } => class_name.as_str(),
            _ => panic!("unexpected {hook}"),
        })
        .collect();
    classes.sort_unstable();
    assert_eq!(
        classes,
        [
            "GameScore",
            "League",
            "Match",
            "Player",
            "Team",
            "_Installation",
            "_Role",
            "_User"
        ]
    );
}
