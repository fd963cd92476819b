use moralis_webhooks::{after_save, cloud_function, Error, FunctionRequest, TriggerRequest};

struct Service;

impl Service {
    #[cloud_function("hello")]
    async fn hello(_req: FunctionRequest) -> Result<String, Error> {
        Ok("hello".to_owned())
    }
}

trait Audit {
    async fn audit(req: TriggerRequest);
}

impl Audit for Service {
    #[after_save("GameScore")]
    async fn audit(_req: TriggerRequest) {}
}

fn main() {
    let _ = Service::hello(FunctionRequest::new("hello", Default::default()));
}
