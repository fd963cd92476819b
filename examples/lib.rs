//! Runnable examples of `moralis-webhooks`: see the files next to this one.
