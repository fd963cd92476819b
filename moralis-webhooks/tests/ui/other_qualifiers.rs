use moralis_webhooks::{after_save, cloud_function, Error, FunctionRequest, TriggerRequest};

#[cloud_function("hello")]
async unsafe fn hello(_req: FunctionRequest) -> Result<String, Error> {
    Ok("hello".to_owned())
}

#[after_save("GameScore")]
async extern "C" fn audit(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

fn main() {}
