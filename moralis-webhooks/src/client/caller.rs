//! `req.parse()`: Parse Server as a handler calls it back, as the caller or as master.

use std::fmt;

use super::ParseClient;

/// Parse Server as a handler calls it back: [`as_caller`](Self::as_caller) or
/// [`as_master`](Self::as_master), chosen per call and never mixed.
///
/// What every request type's `parse()` gives. Without a Parse Server configured (see
/// [`Server::parse_client`](crate::Server::parse_client)), every call fails with an error
/// that says so.
#[derive(Clone)]
pub struct ParseApi {
    client: ParseClient,
    master: bool,
    session_token: Option<String>,
    installation_id: Option<String>,
}

impl ParseApi {
    pub(crate) fn new(
        client: Option<&ParseClient>,
        master: bool,
        session_token: Option<&str>,
        installation_id: Option<&str>,
    ) -> Self {
        ParseApi {
            client: client.cloned().unwrap_or_else(ParseClient::unconfigured),
            master,
            session_token: session_token.map(str::to_owned),
            // Parse Server gives master-key calls the installation id `cloud`: not the
            // caller's.
            installation_id: installation_id
                .filter(|id| !master || *id != "cloud")
                .map(str::to_owned),
        }
    }

    /// As the caller of the hook: with their session token; with the master key if they
    /// used it; otherwise with neither, forwarding their installation id. What the caller
    /// may not read or write, this client cannot either.
    pub fn as_caller(&self) -> ParseClient {
        let client = if self.master {
            self.client.as_master()
        } else if let Some(token) = &self.session_token {
            self.client.as_user(token.clone())
        } else {
            self.client.anonymous()
        };
        match &self.installation_id {
            Some(id) => client.installation_id(id.clone()),
            None => client,
        }
    }

    /// With the master key, whoever the caller is: it bypasses every ACL and class-level
    /// permission, so use it for what the caller may not do themselves.
    pub fn as_master(&self) -> ParseClient {
        self.client.as_master()
    }
}

impl fmt::Debug for ParseApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParseApi")
            .field("client", &self.client)
            .field("master", &self.master)
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}
