use moralis_webhooks::{cloud_function, after_save, Error, FunctionRequest, TriggerRequest};

#[cloud_function("report", timeout = "60s")]
async fn report(_req: FunctionRequest) -> Result<(), Error> {
    Ok(())
}

#[cloud_function("export", timeout = -1)]
async fn export(_req: FunctionRequest) -> Result<(), Error> {
    Ok(())
}

#[after_save("GameScore", timeout)]
async fn audit(_req: TriggerRequest) {}

#[after_save("Player", timeout = 5, timeout = 6)]
async fn twice(_req: TriggerRequest) {}

fn main() {}
