use moralis_webhooks::{before_save, cloud_function, Error, FunctionRequest, TriggerRequest};

#[cloud_function(hello)]
async fn hello(_req: FunctionRequest) -> Result<String, Error> {
    Ok("hello".to_owned())
}

#[before_save(42)]
async fn check(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[before_save(GameScore)]
async fn check_score(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

fn main() {}
