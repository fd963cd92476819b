use moralis_webhooks::{
    after_find, after_save, before_find, before_save, before_subscribe, AfterFindRequest, Error,
    FindRequest, SubscribeRequest, TriggerRequest,
};

#[before_save("@Config")]
async fn config_before(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[after_save("@Config")]
async fn config_after(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[before_save("@File")]
async fn file(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[before_find("_Session")]
async fn sessions(_req: FindRequest) -> Result<(), Error> {
    Ok(())
}

#[after_find("@File")]
async fn files(_req: AfterFindRequest) -> Result<(), Error> {
    Ok(())
}

#[before_subscribe("@Connect")]
async fn connect(_req: SubscribeRequest) -> Result<(), Error> {
    Ok(())
}

fn main() {}
