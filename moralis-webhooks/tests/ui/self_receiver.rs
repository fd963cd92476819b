use moralis_webhooks::{
    after_delete, before_save, cloud_function, Error, FunctionRequest, TriggerRequest,
};

struct Service;

impl Service {
    #[cloud_function("hello")]
    async fn hello(&self, _req: FunctionRequest) -> Result<String, Error> {
        Ok("hello".to_owned())
    }

    #[before_save("GameScore")]
    async fn check(self: Box<Self>, _req: TriggerRequest) -> Result<(), Error> {
        Ok(())
    }

    #[after_delete("GameScore")]
    async fn forget(self) {}
}

fn main() {}
