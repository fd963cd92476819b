//! `crate = path` when `moralis_webhooks` is known by another name.

#![deny(warnings)]

extern crate moralis_webhooks as renamed;

mod hooks {
    pub(crate) use renamed as webhooks;
}

use renamed::{after_delete, before_save, cloud_function, Error, FunctionRequest, TriggerRequest};

#[cloud_function("hello", crate = renamed)]
async fn hello(_req: FunctionRequest) -> Result<String, Error> {
    Ok("hello".to_owned())
}

#[before_save("GameScore", crate = crate::hooks::webhooks,)]
async fn check(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[after_delete("GameScore", crate = ::renamed)]
async fn forget(_req: TriggerRequest) {}

fn main() {
    let webhooks = renamed::Webhooks::from_attributes();
    assert_eq!(webhooks.len(), 3);
}
