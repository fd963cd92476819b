//! Two attributes registering the same hook stop start-up with an error that names both
//! source locations (this test binary holds nothing else, since every server built in it
//! would refuse to start).

use moralis_webhooks::{
    after_save, cloud_function, Error, FunctionRequest, ServeError, Server, TriggerRequest,
};

#[cloud_function("score")]
async fn score(_: FunctionRequest) -> Result<u32, Error> {
    Ok(1)
}

mod elsewhere {
    use super::*;

    #[cloud_function("score")]
    pub(crate) async fn score_again(_: FunctionRequest) -> Result<u32, Error> {
        Ok(2)
    }

    #[after_save("GameScore")]
    pub(crate) async fn first(_: TriggerRequest) {}
}

#[after_save("GameScore")]
async fn second(_: TriggerRequest) {}

#[test]
fn duplicate_hooks_name_both_source_locations() {
    let error = Server::new().webhook_key("k").into_app().unwrap_err();
    let ServeError::InvalidHandlers { problems } = &error else {
        panic!("expected InvalidHandlers, got {error}");
    };
    assert_eq!(problems.len(), 2, "{problems:#?}");
    // The lines of the attributes in this file.
    let lines = |attribute: &str| -> Vec<String> {
        include_str!("duplicates.rs")
            .lines()
            .enumerate()
            .filter(|(_, line)| line.trim() == attribute)
            .map(|(index, _)| format!("moralis-webhooks/tests/duplicates.rs:{}:", index + 1))
            .collect()
    };
    let functions = lines("#[cloud_function(\"score\")]");
    let triggers = lines("#[after_save(\"GameScore\")]");
    assert_eq!((functions.len(), triggers.len()), (2, 2));
    assert!(
        problems[0].starts_with("cloud function `score` has two handlers"),
        "{}",
        problems[0]
    );
    for at in &functions {
        assert!(
            problems[0].contains(at.as_str()),
            "{at} not in {}",
            problems[0]
        );
    }
    assert!(problems[1].starts_with("afterSave trigger of class `GameScore` has two handlers"));
    for at in &triggers {
        assert!(
            problems[1].contains(at.as_str()),
            "{at} not in {}",
            problems[1]
        );
    }
    // The user's functions stay callable as written.
    let _ = (score, elsewhere::score_again, elsewhere::first, second);
}
