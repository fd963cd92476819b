use moralis_webhooks::{after_save, cloud_function, Error, FunctionRequest};

#[cloud_function("hello")]
async fn hello(_req: String) -> Result<String, Error> {
    Ok("hello".to_owned())
}

#[after_save("GameScore")]
async fn audit(_req: serde_json::Value) -> Result<(), Error> {
    Ok(())
}

struct NotDeserialize;

#[cloud_function("add")]
async fn add(_req: FunctionRequest<NotDeserialize>) -> Result<f64, Error> {
    Ok(0.0)
}

fn main() {}
