use moralis_webhooks::{
    after_delete, after_save, before_delete, before_save, Error, TriggerRequest,
};

#[before_save("_Session")]
async fn session_before_save(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[after_save("_Session")]
async fn session_after_save(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[before_delete("_Session")]
async fn session_before_delete(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[after_delete("_Session")]
async fn session_after_delete(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[before_save("_PushStatus")]
async fn push_status_before_save(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

fn main() {}
