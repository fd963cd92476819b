use moralis_webhooks::{
    after_delete, after_save, before_delete, before_save, Error, TriggerRequest,
};

#[before_save("2Fast")]
async fn starts_with_digit(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[after_save("Game Score")]
async fn space(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[before_delete("_Private")]
async fn unknown_system_class(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[after_delete("Game-Score")]
async fn dash(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[after_save("")]
async fn empty(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

fn main() {}
