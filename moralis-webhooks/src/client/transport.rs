//! The HTTP stack that talks to Parse Server, shared by the registrar and the REST client:
//! hyper-util's pooled client over rustls (ring, the system's roots plus any given), HTTP/1.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
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
