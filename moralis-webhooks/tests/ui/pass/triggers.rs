//! `#[after_save]`, `#[before_delete]` and `#[after_delete]` with both accepted return types,
//! on ordinary and system classes.

#![deny(warnings)]

use moralis_webhooks::{
    after_delete, after_save, before_delete, Error, Hook, ParseObject, Trigger, TriggerRequest,
    Webhooks,
};

#[after_save("GameScore")]
async fn audit(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[after_save("Player")]
async fn audit_infallibly(_req: TriggerRequest) {}

#[before_delete("GameScore")]
async fn keep_records(req: TriggerRequest) -> Result<(), Error> {
    if req.master {
        Ok(())
    } else {
        Err(Error::new("records cannot be deleted"))
    }
}

#[before_delete("Player")]
async fn allow_delete(_req: TriggerRequest) {}

#[after_delete("GameScore")]
async fn forget(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[after_delete("Player")]
async fn forget_infallibly(_req: TriggerRequest) {}

#[after_save("_User")]
async fn user_saved(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[before_delete("_Installation")]
async fn installation_deleted(_req: TriggerRequest) {}

#[after_save("_PushStatus")]
async fn push_status_saved(_req: TriggerRequest) {}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(future)
}

fn request(trigger: Trigger, class_name: &str) -> TriggerRequest {
    TriggerRequest::new(trigger, ParseObject::new(class_name))
}

fn main() {
    block_on(audit(request(Trigger::AfterSave, "GameScore"))).unwrap();
    block_on(audit_infallibly(request(Trigger::AfterSave, "Player")));
    assert!(block_on(keep_records(request(Trigger::BeforeDelete, "GameScore"))).is_err());
    block_on(allow_delete(request(Trigger::BeforeDelete, "Player")));
    block_on(forget(request(Trigger::AfterDelete, "GameScore"))).unwrap();
    block_on(forget_infallibly(request(Trigger::AfterDelete, "Player")));
    block_on(user_saved(request(Trigger::AfterSave, "_User"))).unwrap();
    block_on(installation_deleted(request(
        Trigger::BeforeDelete,
        "_Installation",
    )));
    block_on(push_status_saved(request(
        Trigger::AfterSave,
        "_PushStatus",
    )));

    let webhooks = Webhooks::from_attributes();
    let mut hooks: Vec<String> = webhooks.hooks().map(|(hook, _)| hook.path()).collect();
    hooks.sort_unstable();
    assert_eq!(
        hooks,
        [
            "/triggers/GameScore/afterDelete",
            "/triggers/GameScore/afterSave",
            "/triggers/GameScore/beforeDelete",
            "/triggers/Player/afterDelete",
            "/triggers/Player/afterSave",
            "/triggers/Player/beforeDelete",
            "/triggers/_Installation/beforeDelete",
            "/triggers/_PushStatus/afterSave",
            "/triggers/_User/afterSave",
        ]
    );
    assert!(webhooks
        .hooks()
        .all(|(hook, _)| matches!(hook, Hook::Trigger { .. })));
}
