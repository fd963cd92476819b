use moralis_webhooks::{after_save, cloud_function, Error, FunctionRequest, TriggerRequest};

#[cloud_function("hello")]
async fn hello<P>(_req: FunctionRequest<P>) -> Result<String, Error> {
    Ok("hello".to_owned())
}

#[cloud_function("greet")]
async fn greet(_req: FunctionRequest) -> Result<String, Error>
where
    String: Send,
{
    Ok("hello".to_owned())
}

#[after_save("GameScore")]
async fn audit<'a>(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[after_save("Player")]
async fn audit_player<const N: usize>(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

fn main() {}
