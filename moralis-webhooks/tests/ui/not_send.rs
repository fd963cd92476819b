use std::rc::Rc;

use moralis_webhooks::{cloud_function, Error, FunctionRequest};

async fn load() {}

#[cloud_function("hello")]
async fn hello(_req: FunctionRequest) -> Result<String, Error> {
    let shared = Rc::new("hello".to_owned());
    load().await;
    Ok(shared.to_string())
}

fn main() {}
