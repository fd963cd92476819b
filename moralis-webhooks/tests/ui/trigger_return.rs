use moralis_webhooks::{
    after_save, before_delete, before_save, Error, ParseObject, TriggerRequest,
};

#[after_save("GameScore")]
async fn audit(_req: TriggerRequest) -> Result<String, Error> {
    Ok("saved".to_owned())
}

#[before_delete("GameScore")]
async fn keep(req: TriggerRequest) -> Result<ParseObject, Error> {
    Ok(req.object)
}

#[before_save("GameScore")]
async fn check(_req: TriggerRequest) -> Result<bool, Error> {
    Ok(true)
}

#[before_save("Player")]
async fn check_player(_req: TriggerRequest) -> String {
    "ok".to_owned()
}

fn main() {}
