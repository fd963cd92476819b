//! Handlers stay ordinary items: visible, callable, documented, nested in modules.

#![deny(warnings)]

use moralis_webhooks::{FunctionRequest, Params, ParseObject, Trigger, TriggerRequest};

mod functions {
    use moralis_webhooks::{cloud_function, Error, FunctionRequest};

    /// Says hello.
    #[cloud_function("hello")]
    pub async fn hello(req: FunctionRequest) -> Result<String, Error> {
        Ok(format!("Hello, {}!", req.function_name))
    }

    pub(crate) mod nested {
        use moralis_webhooks::{after_save, TriggerRequest};

        #[after_save("GameScore")]
        pub(crate) async fn audit(_req: TriggerRequest) {}
    }
}

mod same_name_elsewhere {
    use moralis_webhooks::{cloud_function, Error, FunctionRequest};

    // Another `hello` item in another module: the hidden registrations do not collide.
    #[cloud_function("hello2")]
    pub async fn hello(_req: FunctionRequest) -> Result<(), Error> {
        Ok(())
    }
}

mod raw {
    use moralis_webhooks::{before_delete, Error, TriggerRequest};

    #[before_delete("Match")]
    pub async fn r#match(_req: TriggerRequest) -> Result<(), Error> {
        Ok(())
    }
}

// One function serving several hooks.
#[moralis_webhooks::after_save("Player")]
#[moralis_webhooks::after_save("Team")]
#[moralis_webhooks::after_delete("Team")]
async fn audit_many(_req: TriggerRequest) {}

fn main() {
    // A handler defined in a function body is registered too.
    #[moralis_webhooks::cloud_function("local")]
    async fn local(_req: FunctionRequest) -> Result<(), moralis_webhooks::Error> {
        Ok(())
    }
    let _ = local;
    let _ = raw::r#match;
    let _ = audit_many;

    let _ = functions::hello(FunctionRequest::new("hello", Params::default()));
    let _ = same_name_elsewhere::hello(FunctionRequest::new("hello2", Params::default()));
    let _ = functions::nested::audit(TriggerRequest::new(
        Trigger::AfterSave,
        ParseObject::new("GameScore"),
    ));
    let as_pointer: fn(FunctionRequest) -> _ = functions::hello;
    let _ = as_pointer;

    let webhooks = moralis_webhooks::Webhooks::from_attributes();
    let mut hooks: Vec<String> = webhooks.hooks().map(|(hook, _)| hook.path()).collect();
    hooks.sort_unstable();
    assert_eq!(
        hooks,
        [
            "/functions/hello",
            "/functions/hello2",
            "/functions/local",
            "/triggers/GameScore/afterSave",
            "/triggers/Match/beforeDelete",
            "/triggers/Player/afterSave",
            "/triggers/Team/afterDelete",
            "/triggers/Team/afterSave",
        ]
    );
}
