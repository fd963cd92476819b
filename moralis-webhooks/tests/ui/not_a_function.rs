use moralis_webhooks::{before_save, cloud_function};

#[cloud_function("hello")]
struct Hello;

#[before_save("GameScore")]
const CHECK: u32 = 1;

#[cloud_function("greet")]
mod greet {}

fn main() {}
