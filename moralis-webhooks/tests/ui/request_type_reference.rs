use moralis_webhooks::{after_save, cloud_function, Error, FunctionRequest, TriggerRequest};

#[cloud_function("hello")]
async fn hello(_req: &FunctionRequest) -> Result<String, Error> {
    Ok("hello".to_owned())
}

#[after_save("GameScore")]
async fn audit(_req: &mut TriggerRequest) -> Result<(), Error> {
    Ok(())
}

fn main() {}
