use moralis_webhooks::{cloud_function, Error, FunctionRequest};

#[cloud_function("scores.get")]
async fn dot(_req: FunctionRequest) -> Result<(), Error> {
    Ok(())
}

#[cloud_function("say\"hi")]
async fn double_quote(_req: FunctionRequest) -> Result<(), Error> {
    Ok(())
}

#[cloud_function("it's")]
async fn single_quote(_req: FunctionRequest) -> Result<(), Error> {
    Ok(())
}

#[cloud_function("scores/get")]
async fn slash(_req: FunctionRequest) -> Result<(), Error> {
    Ok(())
}

#[cloud_function("get score")]
async fn space(_req: FunctionRequest) -> Result<(), Error> {
    Ok(())
}

#[cloud_function("get\tscore")]
async fn tab(_req: FunctionRequest) -> Result<(), Error> {
    Ok(())
}

#[cloud_function("100%")]
async fn percent(_req: FunctionRequest) -> Result<(), Error> {
    Ok(())
}

#[cloud_function("why?")]
async fn question_mark(_req: FunctionRequest) -> Result<(), Error> {
    Ok(())
}

#[cloud_function(r"a\b")]
async fn backslash(_req: FunctionRequest) -> Result<(), Error> {
    Ok(())
}

fn main() {}
