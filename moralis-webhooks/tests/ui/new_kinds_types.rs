use moralis_webhooks::{
    after_find, before_find, before_login, AfterFindRequest, Error, FindRequest, ParseObject,
    TriggerRequest,
};

// A value an afterFind cannot return: Parse Server crashes or blanks the results.
#[after_find("GameScore")]
async fn rewrite(req: AfterFindRequest) -> Result<Vec<ParseObject>, Error> {
    Ok(req.objects)
}

// Another kind's request.
#[before_find("GameScore")]
async fn gate(_req: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

// A request of the right family but the wrong kind.
#[before_login]
async fn login(_req: FindRequest) -> Result<(), Error> {
    Ok(())
}

fn main() {}
