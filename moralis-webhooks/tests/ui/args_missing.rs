use moralis_webhooks::{before_save, cloud_function, Error, FunctionRequest, TriggerRequest};

#[cloud_function]
async fn hello(_req: FunctionRequest) -> Result<String, Error> {
    Ok("hello".to_owned())
}

#[before_save()]
async fn check(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

fn main() {}
