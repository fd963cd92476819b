//! An attribute handler taking a `State<T>` that the server was never given stops start-up
//! with an error naming the user's function and the type (this test binary holds nothing
//! else, since every server built in it would refuse to start).

use moralis_webhooks::{cloud_function, Error, FunctionRequest, ServeError, Server, State};

#[derive(Clone)]
struct Limits {
    max: u32,
}

#[cloud_function("capped")]
async fn capped(_: FunctionRequest, State(limits): State<Limits>) -> Result<u32, Error> {
    Ok(limits.max)
}

#[test]
fn a_missing_state_names_the_function_and_the_type() {
    let error = Server::new().webhook_key("k").into_app().unwrap_err();
    let ServeError::InvalidHandlers { problems } = &error else {
        panic!("expected InvalidHandlers, got {error}");
    };
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let line = include_str!("missing_state.rs")
        .lines()
        .position(|line| line.starts_with("#[cloud_function(\"capped\")]"))
        .expect("the attribute's line")
        + 1;
    assert_eq!(
        problems[0],
        format!(
            "the handler `missing_state::capped` of the cloud function `capped` (registered at \
             moralis-webhooks/tests/missing_state.rs:{line}:1) takes `State<missing_state::Limits>`, \
             but no `missing_state::Limits` was given with `Server::state`"
        )
    );
    assert!(Server::new()
        .webhook_key("k")
        .state(Limits { max: 3 })
        .into_app()
        .is_ok());
}
