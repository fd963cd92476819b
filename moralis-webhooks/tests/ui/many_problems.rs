use moralis_webhooks::{after_save, before_save, cloud_function, TriggerRequest};

#[cloud_function("scores.get")]
fn get_score<T>(_req: TriggerRequest, _extra: T) {}

#[before_save("_Session")]
fn check<'a>(_req: &'a TriggerRequest) {}

#[after_save(GameScore)]
fn audit(_first: u8, _second: u8) -> String {
    String::new()
}

fn main() {}
