use moralis_webhooks::{
    after_delete, before_save, cloud_function, Error, FunctionRequest, ParseObject, TriggerRequest,
};

#[cloud_function("hello")]
async fn hello(_req: TriggerRequest) -> Result<String, Error> {
    Ok("hello".to_owned())
}

#[before_save("GameScore")]
async fn check(_req: FunctionRequest) -> Result<ParseObject, Error> {
    Ok(ParseObject::new("GameScore"))
}

#[after_delete("GameScore")]
async fn forget(_req: moralis_webhooks::FunctionRequest) -> Result<(), Error> {
    Ok(())
}

fn main() {}
