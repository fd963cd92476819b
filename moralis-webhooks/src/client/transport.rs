//! The HTTP stack that talks to Parse Server, shared by the registrar and the REST client:
//! hyper-util's pooled client over rustls (ring, the system's roots plus any given), HTTP/1.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::CertificateDer;

/// A pooled HTTP(S) client; cloning it shares the pool.
pub(crate) type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A client trusting the system's root certificates (or those in `SSL_CERT_FILE`) and
/// `extra_roots`, speaking `http://` and `https://`.
pub(crate) fn http_client(
    extra_roots: &[CertificateDer<'static>],
) -> Result<HttpClient, rustls::Error> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    roots.add_parsable_certificates(extra_roots.iter().cloned());
    // ring keeps the build free of C toolchains beyond what ring needs; rustls 0.23.48
    // deprecates its provider for lacking post-quantum key exchange, which a webhook
    // server's calls to its own Parse Server do not need.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    // Each request goes out in one write and waits for its answer: no Nagle delay.
    let mut tcp = HttpConnector::new();
    tcp.set_nodelay(true);
    tcp.enforce_http(false);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

/// Why an [`exchange`] with Parse Server failed.
pub(crate) enum Failure<E> {
    /// The request could not be made (what the caller's builder said).
    Request(E),
    /// No whole answer within the time given.
    TimedOut,
    /// The request could not be sent, or no answer came.
    Unreachable(hyper_util::client::legacy::Error),
    /// The answer's body could not be read.
    Reading(hyper::Error),
}

/// Sends the request `request` builds and reads the whole answer, all within `timeout`.
/// When it fails on a kept-alive connection Parse Server has just closed or reset, and
/// `retry` allows it for that error, it is built and sent once more, on a new connection.
pub(crate) async fn exchange<E>(
    client: &HttpClient,
    timeout: Duration,
    mut request: impl FnMut() -> Result<Request<Full<Bytes>>, E>,
    retry: impl Fn(&hyper_util::client::legacy::Error) -> bool,
) -> Result<(StatusCode, Bytes), Failure<E>> {
    let exchange = async {
        let mut attempts = 0;
        let response = loop {
            attempts += 1;
            match client.request(request().map_err(Failure::Request)?).await {
                Err(error) if attempts < 2 && retry(&error) => continue,
                Err(error) => return Err(Failure::Unreachable(error)),
                Ok(response) => break response,
            }
        };
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(Failure::Reading)?;
        Ok((status, body.to_bytes()))
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or(Err(Failure::TimedOut))
}

/// Whether a request failed because the kept-alive connection it was sent on was closed by
/// Parse Server before an answer came: worth sending again on a new connection.
pub(crate) fn closed_before_answer(error: &hyper_util::client::legacy::Error) -> bool {
    std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<hyper::Error>())
        .is_some_and(|error| error.is_incomplete_message() || error.is_canceled())
}

/// Whether the connection was reset. Parse Server resets a kept-alive connection after
/// some refusals (a master key from outside `masterKeyIps`), so the next request on it
/// fails at once; a GET is safe to send again on a new connection.
pub(crate) fn reset(error: &hyper_util::client::legacy::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(error) = source {
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::ConnectionReset;
        }
        source = error.source();
    }
    false
}
