use moralis_webhooks::{after_delete, cloud_function, Error, FunctionRequest, TriggerRequest};

#[cloud_function("hello")]
async fn hello() -> Result<String, Error> {
    Ok("hello".to_owned())
}

#[cloud_function("greet")]
async fn greet(_req: FunctionRequest, _name: String) -> Result<String, Error> {
    Ok("hello".to_owned())
}

#[after_delete("GameScore")]
async fn forget() -> Result<(), Error> {
    Ok(())
}

#[after_delete("Player")]
async fn forget_player(
    _req: TriggerRequest,
    _also: TriggerRequest,
    _more: u32,
) -> Result<(), Error> {
    Ok(())
}

fn main() {}
