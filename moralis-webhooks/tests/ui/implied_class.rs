use moralis_webhooks::{after_logout, before_connect, before_login, before_save_file, Error, FileRequest, LoginRequest, LogoutRequest, ConnectRequest};

#[before_login("_User")]
async fn login(_req: LoginRequest) -> Result<(), Error> {
    Ok(())
}

#[after_logout("_User")]
async fn logout(_req: LogoutRequest) -> Result<(), Error> {
    Ok(())
}

#[before_save_file("@File")]
async fn upload(_req: FileRequest) -> Result<(), Error> {
    Ok(())
}

#[before_connect("Message", timeout = 5)]
async fn connect(_req: ConnectRequest) -> Result<(), Error> {
    Ok(())
}

fn main() {}
