//! The hyper transport: accepting connections, reading requests within their limits, the
//! health checks, registration at start, and the graceful drain at shutdown.
//!
//! Parse Server keeps its connections to webhooks alive forever and never retries, so an
//! idle kept-alive connection is never closed here: closing it races with Parse Server
//! sending its next call on it, which its client would see as "socket hang up". Slow
//! clients are still cut off: the time limit on reading a request starts with its first
//! byte, not when the connection falls idle (hyper's own header timeout starts at idle).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::CONNECTION;
use http::{HeaderValue, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::dispatch::{App, Health};
use crate::{Registrar, ServeError};

/// The transport's own settings.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    pub(crate) read_timeout: Duration,
    pub(crate) drain_delay: Duration,
    pub(crate) shutdown_timeout: Duration,
}

/// A server with its socket open; see [`Server::bind`](crate::Server::bind).
#[derive(Debug)]
pub struct BoundServer {
    pub(crate) listener: TcpListener,
    pub(crate) addr: SocketAddr,
    pub(crate) app: Arc<App>,
    pub(crate) transport: Transport,
    pub(crate) registrar: Option<Registrar>,
}

impl BoundServer {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The app the server runs.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Serves until SIGTERM or Ctrl-C, then drains (see [`serve_until`](Self::serve_until)).
    pub async fn serve(self) -> Result<(), ServeError> {
        let signal = shutdown_signal()?;
        self.serve_until(signal).await
    }

    /// Serves until `shutdown` completes, then drains: `/readyz` turns 503, the server keeps
    /// serving for the drain delay (answering with `Connection: close` so clients stop
    /// reusing connections), then stops accepting, closes idle connections and lets the
    /// calls in flight finish, up to the shutdown timeout.
    ///
    /// With registration configured, the hooks are registered first, while calls are
    /// already served; `/readyz` answers 503 until that is done, and a failure stops the
    /// server with the error.
    pub async fn serve_until(self, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
        let BoundServer {
            listener,
            addr,
            app,
            transport,
            registrar,
        } = self;
        announce(addr, &app);
        let connections = Connections::new();
        let mut shutdown = std::pin::pin!(shutdown);
        let starting = registrar.is_some();
        app.set_health(if starting {
            Health::Starting
        } else {
            Health::Ready
        });
        let registering = {
            let app = Arc::clone(&app);
            async move {
                match registrar {
                    Some(registrar) => registrar
                        .register_logged(app.hooks())
                        .await
                        .map(drop)
                        .map_err(ServeError::from),
                    None => Ok(()),
                }
            }
        };
        let mut registering = std::pin::pin!(registering);
        let mut registered = !starting;
        let mut failure = None;
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _peer)) => {
                        serve_connection(stream, &app, &transport, &connections);
                    }
                    Err(error) => {
                        // Out of file descriptors, for example: wait, do not spin or stop.
                        tracing::warn!("cannot accept a connection: {error}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                result = &mut registering, if !registered => {
                    registered = true;
                    app.count_registration(result.is_ok());
                    match result {
                        Ok(()) => {
                            app.set_health(Health::Ready);
                            tracing::info!("ready");
                        }
                        Err(error) => {
                            tracing::error!("stopping: {error}");
                            failure = Some(error);
                            break;
                        }
                    }
                }
                () = &mut shutdown => break,
            }
        }
        app.set_health(Health::Draining);
        if failure.is_none() && !transport.drain_delay.is_zero() {
            tracing::info!(
                "draining: /readyz answers 503; still serving for {:?}",
                transport.drain_delay
            );
            let delay = tokio::time::sleep(transport.drain_delay);
            tokio::pin!(delay);
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        if let Ok((stream, _)) = accepted {
                            serve_connection(stream, &app, &transport, &connections);
                        }
                    }
                    () = &mut delay => break,
                }
            }
        }
        // Connections the kernel has queued carry calls already sent: serve them rather
        // than let closing the listener reset them.
        match listener.into_std() {
            Ok(listener) => {
                while let Ok((stream, _)) = listener.accept() {
                    let stream = stream
                        .set_nonblocking(true)
                        .and_then(|()| TcpStream::from_std(stream));
                    if let Ok(stream) = stream {
                        serve_connection(stream, &app, &transport, &connections);
                    }
                }
            }
            Err(error) => tracing::debug!("cannot take the queued connections: {error}"),
        }
        tracing::info!("shutting down: no new connections; letting calls in flight finish");
        let deadline = transport.shutdown_timeout;
        match tokio::time::timeout(deadline, connections.close_all()).await {
            Ok(()) => tracing::info!("all calls finished; stopped"),
            Err(_) => tracing::warn!(
                "calls still running after the shutdown timeout of {deadline:?}; stopping anyway"
            ),
        }
        match failure {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// The open connections: tells them to close, and learns when all have.
struct Connections {
    stop: watch::Sender<bool>,
    open: mpsc::Sender<()>,
    all_closed: mpsc::Receiver<()>,
}

/// What a connection's task holds: the stop signal, and its place among the open ones.
struct ConnectionHandle {
    stop: watch::Receiver<bool>,
    _open: mpsc::Sender<()>,
}

impl Connections {
    fn new() -> Self {
        let (open, all_closed) = mpsc::channel(1);
        Connections {
            stop: watch::Sender::new(false),
            open,
            all_closed,
        }
    }

    fn handle(&self) -> ConnectionHandle {
        ConnectionHandle {
            stop: self.stop.subscribe(),
            _open: self.open.clone(),
        }
    }

    /// Asks every connection to close once its call is answered; completes when all did.
    async fn close_all(self) {
        let Connections {
            stop,
            open,
            mut all_closed,
        } = self;
        drop(open);
        stop.send_replace(true);
        // Every handle dropped: `recv` sees the channel closed.
        let _ = all_closed.recv().await;
    }
}

/// Serves one connection on its own task.
///
/// At shutdown, a connection that is idle or in the middle of a call is told to close once
/// its call is answered (idle ones close at once). A connection that has not received a
/// byte yet was opened for a call that is on its way (a load balancer's, say): it is left
/// to receive it and answer it with `Connection: close`, within the read timeout; hyper's
/// own graceful shutdown would close it unanswered.
fn serve_connection(
    stream: TcpStream,
    app: &Arc<App>,
    transport: &Transport,
    connections: &Connections,
) {
    // Without it, Nagle's algorithm and delayed ACKs add ~40 ms per call.
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!("cannot set TCP_NODELAY: {error}");
    }
    let watch = Arc::new(RequestWatch::default());
    let stream = Watched {
        stream,
        watch: Arc::clone(&watch),
    };
    let read_timeout = transport.read_timeout;
    let mut head_timer = HeadTimer::new(read_timeout);
    let service = {
        let app = Arc::clone(app);
        let watch = Arc::clone(&watch);
        service_fn(move |request: Request<Incoming>| {
            let app = Arc::clone(&app);
            let watch = Arc::clone(&watch);
            async move {
                watch.set(Phase::Handling);
                let response = serve_http(&app, request, read_timeout).await;
                watch.set(Phase::Idle);
                Ok::<_, Infallible>(response)
            }
        })
    };
    let connection = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    let ConnectionHandle { mut stop, _open } = connections.handle();
    tokio::spawn(async move {
        let _open = _open;
        let mut connection = std::pin::pin!(connection);
        let mut stopping = false;
        // Set at shutdown for a connection that has not received a byte yet.
        let mut first_byte_by: Option<Instant> = None;
        loop {
            let first_byte_overdue = async {
                match first_byte_by {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                // The connection first: reading the stream and running the service move
                // the request's phase, which the head timer then reads.
                biased;
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!("connection ended with an error: {error}");
                    }
                    break;
                }
                () = std::future::poll_fn(|cx| head_timer.poll_overdue(cx, &watch)) => {
                    tracing::debug!(
                        "closed a connection whose request headers did not arrive within {read_timeout:?}"
                    );
                    break;
                }
                _ = stop.wait_for(|stop| *stop), if !stopping => {
                    stopping = true;
                    if watch.has_received_bytes() {
                        connection.as_mut().graceful_shutdown();
                    } else {
                        first_byte_by = Some(Instant::now() + read_timeout);
                    }
                }
                () = first_byte_overdue => {
                    if !watch.has_received_bytes() {
                        break;
                    }
                    // Its call arrived and is answered with `Connection: close`.
                    first_byte_by = None;
                }
            }
        }
    });
}

fn announce(addr: SocketAddr, app: &App) {
    tracing::info!("moralis-webhooks listening on http://{addr}");
    if app.hooks().is_empty() {
        tracing::warn!(
            "no handlers registered: annotate async functions with #[cloud_function(...)], \
             #[before_save(...)], ... or add a Webhooks set with Server::webhooks"
        );
    }
    for hook in app.hooks() {
        tracing::info!("serving {hook} at POST {}", hook.path());
    }
}

/// Answers one request through the app's pipeline, with the read timeout.
async fn serve_http(
    app: &App,
    request: Request<Incoming>,
    read_timeout: Duration,
) -> Response<Full<Bytes>> {
    let mut response = app.serve(request, Some(read_timeout)).await;
    if app.health() == Health::Draining {
        // Clients stop reusing this connection, so none is closed under a call.
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response.map(Full::new)
}

/// Where a connection is in its request cycle, as far as the time limit on reading a
/// request is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for a request, as long as the client likes.
    Idle,
    /// A request has started to arrive at this instant: its headers must follow in time.
    Head(Instant),
    /// The request's headers arrived; the body has its own limit.
    Handling,
}

/// What the connection's task knows of its request cycle. Only that task changes it (while
/// hyper reads the stream and runs the service inside it), so nothing needs waking when it
/// changes: the task polls its [`HeadTimer`] right after the connection.
#[derive(Debug)]
struct RequestWatch {
    phase: Mutex<Phase>,
    received_bytes: AtomicBool,
}

impl Default for RequestWatch {
    fn default() -> Self {
        RequestWatch {
            phase: Mutex::new(Phase::Idle),
            received_bytes: AtomicBool::new(false),
        }
    }
}

impl RequestWatch {
    fn phase(&self) -> Phase {
        *self.phase.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set(&self, phase: Phase) {
        *self.phase.lock().unwrap_or_else(PoisonError::into_inner) = phase;
    }

    /// Whether the connection has received anything yet.
    fn has_received_bytes(&self) -> bool {
        self.received_bytes.load(Ordering::Acquire)
    }

    /// Bytes arrived: an idle connection starts a request.
    fn bytes_arrived(&self) {
        self.received_bytes.store(true, Ordering::Release);
        let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        if *phase == Phase::Idle {
            *phase = Phase::Head(Instant::now());
        }
    }
}

/// The time limit on a request's headers, one timer per connection.
///
/// The timer is not moved for every request: once armed it runs to its deadline, and only
/// then is the phase checked and the timer re-armed for the request under way, if any. A
/// connection carrying a steady stream of calls thus touches the runtime's timer about
/// once per `limit`, not once per call.
struct HeadTimer {
    limit: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
    armed: bool,
}

impl HeadTimer {
    fn new(limit: Duration) -> HeadTimer {
        HeadTimer {
            limit,
            sleep: Box::pin(tokio::time::sleep(limit)),
            armed: false,
        }
    }

    /// Ready when the request under way has taken longer than the limit to bring its
    /// headers. Must be polled after the connection each time the task runs.
    fn poll_overdue(&mut self, cx: &mut Context<'_>, watch: &RequestWatch) -> Poll<()> {
        loop {
            let deadline = match watch.phase() {
                Phase::Head(since) => Some(since + self.limit),
                Phase::Idle | Phase::Handling => None,
            };
            if !self.armed {
                let Some(deadline) = deadline else {
                    // The next request's first byte is read in this task, which then
                    // polls this again.
                    return Poll::Pending;
                };
                self.sleep.as_mut().reset(deadline);
                self.armed = true;
            }
            if self.sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.armed = false;
            // The timer may have been armed for an earlier request.
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return Poll::Ready(());
            }
        }
    }
}

/// A TCP stream that tells its [`RequestWatch`] when bytes arrive.
struct Watched {
    stream: TcpStream,
    watch: Arc<RequestWatch>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.watch.bytes_arrived();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Completes on SIGTERM or Ctrl-C (SIGINT).
fn shutdown_signal() -> Result<impl Future<Output = ()>, ServeError> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    Ok(async move {
        #[cfg(unix)]
        let terminated = terminate.recv();
        #[cfg(not(unix))]
        let terminated = std::future::pending::<Option<()>>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("received Ctrl-C"),
            _ = terminated => tracing::info!("received SIGTERM"),
        }
    })
}
