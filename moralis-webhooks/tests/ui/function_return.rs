use moralis_webhooks::{cloud_function, FunctionRequest};

#[cloud_function("hello")]
async fn hello(_req: FunctionRequest) -> String {
    "hello".to_owned()
}

#[cloud_function("greet")]
async fn greet(_req: FunctionRequest) {}

#[cloud_function("shout")]
async fn shout(_req: FunctionRequest) -> Result<String, &'static str> {
    Err("no")
}

struct NotSerialize;

#[cloud_function("opaque")]
async fn opaque(_req: FunctionRequest) -> Result<NotSerialize, moralis_webhooks::Error> {
    Ok(NotSerialize)
}

fn main() {}
