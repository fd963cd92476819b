use moralis_webhooks::{after_save, cloud_function, Error, FunctionRequest, TriggerRequest};

#[cloud_function("hello", "world")]
async fn hello(_req: FunctionRequest) -> Result<String, Error> {
    Ok("hello".to_owned())
}

#[cloud_function("greet", path = moralis_webhooks)]
async fn greet(_req: FunctionRequest) -> Result<String, Error> {
    Ok("hello".to_owned())
}

#[after_save("GameScore", crate = moralis_webhooks, crate = moralis_webhooks)]
async fn audit(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[after_save("Player", crate)]
async fn audit_player(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[after_save("Team", crate = "moralis_webhooks")]
async fn audit_team(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[cloud_function("shout" crate = moralis_webhooks)]
async fn shout(_req: FunctionRequest) -> Result<String, Error> {
    Ok("hello".to_owned())
}

fn main() {}
