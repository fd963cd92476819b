use moralis_webhooks::{after_save, before_save, cloud_function, Error, Params, ParseObject};

#[cloud_function("hello")]
async fn hello(_params: Params) -> Result<String, Error> {
    Ok("hello".to_owned())
}

#[before_save("GameScore")]
async fn check(object: ParseObject) -> Result<ParseObject, Error> {
    Ok(object)
}

#[after_save("GameScore")]
async fn audit(_object: moralis_webhooks::ParseObject) {}

fn main() {}
