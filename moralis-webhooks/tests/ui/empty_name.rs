use moralis_webhooks::{cloud_function, Error, FunctionRequest};

#[cloud_function("")]
async fn hello(_req: FunctionRequest) -> Result<String, Error> {
    Ok("hello".to_owned())
}

fn main() {}
