//! The query socket: `openwatch serve` answers `openwatch query` over a Unix domain socket
//! in the data directory it holds (`<data-dir>/query.sock`).
//!
//! A server holds its data directory's lock, so a query process cannot open the store while
//! it runs; instead, `openwatch query` finds the socket and hands the server its resolved
//! arguments. The server runs the query over the store it already has open (its in-memory
//! events included, its threads, memory and segment footers warm) and sends back exactly
//! what a local run prints. Output, exit codes and diagnostics are the same either way; the
//! run in the server skips the query process's fixed cost (opening the store, starting
//! threads, faulting in fresh memory). The client shows the same progress spinner as a
//! local run, from the server's progress frames.
//!
//! Protocol (one query per connection; frames are `[tag: u8][n: u32 little-endian][n bytes]`):
//! - on accepting a peer, the server sends `a` with the protocol version in `n` and no bytes
//!   (`d` to a peer that is not the socket's owner, then closes).
//!   A client that gets no `a` within [`HANDSHAKE_TIMEOUT`] (no server, a server that is
//!   stopped or gone, a peer it turned away) runs the query itself;
//! - the client sends one line: the [`Invocation`] as JSON;
//! - the server replies with `o` (bytes for stdout) and `e` (bytes for stderr) frames in the
//!   order a local run writes them, then `x` with the exit code in `n` and no bytes. A
//!   connection that ends before `x` is an error for the client (exit 2), never a reason to
//!   run the query again; before them, when the invocation asks for progress (version 2),
//!   `p` frames of 16 bytes (recordsScanned and bytesScanned so far, u64 little-endian)
//!   while the query runs, about every 200 ms (the engine's progress tick);
//! - the client closing the connection, or only its writing side, before the reply cancels
//!   the query (the client does so on Ctrl-C, then prints the server's "query cancelled");
//! - a server that stops (SIGTERM) cancels the queries it is running and answers them.
//!
//! Scope: the socket serves the server's default account (the data directory itself); the
//! server's other accounts are queried through the API (StartQuery). Queries over the
//! socket take the server's query timeout unless `--timeout` is given, and do not count
//! against its `maxConcurrentQueries` (an API limit, as in AWS).
//!
//! Access: the socket file is made owner-only (mode 0600) and the server answers only peers
//! running as the socket file's owner (checked from the peer's credentials), the user who
//! can read the data directory's files anyway. Another user's `openwatch query` cannot
//! connect (`EACCES`) and, finding the store locked, says so and how to query instead. A
//! request line over [`MAX_REQUEST_BYTES`] is refused with an error (exit code 2).

use std::io::{BufReader, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use ow_query::{CancelToken, EngineConfig};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

use crate::cmd::query::Invocation;

/// File name of the query socket inside a data directory.
pub const SOCKET_NAME: &str = "query.sock";

/// Frame tags.
const ACCEPTED: u8 = b'a';
const STDOUT: u8 = b'o';
const STDERR: u8 = b'e';
const EXIT: u8 = b'x';
/// Progress while the query runs (only to a client whose invocation asks for it).
const PROGRESS: u8 = b'p';
/// Sent instead of `a` (with `n` = 0) to a peer that is not the socket's owner.
const DENIED: u8 = b'd';

/// The protocol version the server announces in its `a` frame.
/// 2: progress frames (`p`), sent only to a client that asks for them.
const PROTOCOL_VERSION: u32 = 2;

/// How long a client waits for the server's `a` frame before running the query itself.
pub const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// How long the server waits for a client's request line before closing the connection.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// How long a stopping server waits for its cancelled queries to send their replies.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The largest request line the server reads (bytes). A query is at most 10,000 characters
/// (spec §1, checked by the parser in both modes); the cap only bounds what a peer that
/// never sends a newline makes the server hold (QA, session 17: 1 GiB without a newline
/// took the server's memory from 226 MB to 1.7 GB; with a 64 MiB cap each such request
/// still left 60 to 150 MB behind). A larger request gets an error and exit code 2, so a
/// query file of over 1 MiB, which a local run rejects with Q300 (too long), gets that
/// error instead when served: the one difference between the two.
const MAX_REQUEST_BYTES: u64 = 1 << 20;

/// Socket paths longer than this many bytes are reached through `/proc/self/fd` (a Unix
/// socket address holds at most 107 bytes).
const MAX_DIRECT_PATH_BYTES: usize = 100;

/// A path by which the socket in `dir` can be bound or connected to, and the open
/// directory it goes through (kept open while the path is used): the plain path, or on
/// Linux `/proc/self/fd/<dir fd>/query.sock` when the plain one is too long for a socket
/// address.
fn socket_address(dir: &Path) -> (PathBuf, Option<std::fs::File>) {
    let path = dir.join(SOCKET_NAME);
    #[cfg(target_os = "linux")]
    if path.as_os_str().len() > MAX_DIRECT_PATH_BYTES {
        if let Ok(d) = std::fs::File::open(dir) {
            use std::os::fd::AsRawFd;
            let short = PathBuf::from(format!("/proc/self/fd/{}/{SOCKET_NAME}", d.as_raw_fd()));
            return (short, Some(d));
        }
    }
    (path, None)
}

/// The socket's file descriptor while a forwarded query runs, for the Ctrl-C handler.
#[cfg(target_os = "linux")]
static FORWARDING_FD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

/// SIGINT while a query is forwarded: shut the socket's writing side, which has the server
/// cancel the query and answer "query cancelled" (as a local run prints); a second Ctrl-C
/// ends the process.
#[cfg(target_os = "linux")]
extern "C" fn on_interrupt(_: libc::c_int) {
    let fd = FORWARDING_FD.load(std::sync::atomic::Ordering::SeqCst);
    // SAFETY: shutdown(2) and signal(2) are async-signal-safe; `fd` is the forwarding
    // socket, open until `forward` clears FORWARDING_FD.
    #[allow(unsafe_code)]
    unsafe {
        if fd >= 0 {
            libc::shutdown(fd, libc::SHUT_WR);
        }
        libc::signal(libc::SIGINT, libc::SIG_DFL);
    }
}

/// What [`forward`] did with a query.
#[derive(Debug)]
pub enum Forwarded {
    /// A server ran it; its output was copied; the process exits with this code.
    Answered(ExitCode),
    /// No server answers there (no socket file, one left behind by a server that is gone, a
    /// stopped server, a server that turns this user away): the caller opens the store
    /// itself. `permission_denied`: a socket file is there but this user may not connect to
    /// it (mode 0600: a server started by another user), which the caller says if the store
    /// then turns out to be locked.
    NotServed {
        /// The socket exists and connecting to it failed with `EACCES`.
        permission_denied: bool,
    },
}

/// Runs `invocation` in the `openwatch serve` that listens on `data_dir`'s query socket,
/// copying its output to this process's stdout and stderr.
///
/// # Errors
/// The server stops answering after it accepted the query, or its reply is malformed;
/// writing stdout or stderr fails (a closed pipe is an `io::Error` of kind `BrokenPipe`).
pub fn forward(data_dir: &Path, invocation: &Invocation) -> anyhow::Result<Forwarded> {
    let (address, _dir) = socket_address(data_dir);
    let stream = match UnixStream::connect(&address) {
        Ok(stream) => stream,
        Err(e) => {
            return Ok(Forwarded::NotServed {
                permission_denied: e.kind() == std::io::ErrorKind::PermissionDenied,
            })
        }
    };
    let path = data_dir.join(SOCKET_NAME);
    let mut head = [0u8; 5];
    let greeted = stream.set_read_timeout(Some(HANDSHAKE_TIMEOUT)).is_ok()
        && (&stream).read_exact(&mut head).is_ok();
    if greeted && head[0] == DENIED {
        // QA (session 17): a socket opened to others (chmod) reached a server that turns
        // them away, and the client then gave the generic lock help
        return Ok(Forwarded::NotServed {
            permission_denied: true,
        });
    }
    let accepted = greeted && head[0] == ACCEPTED && stream.set_read_timeout(None).is_ok();
    if !accepted {
        return Ok(Forwarded::NotServed {
            permission_denied: false,
        });
    }
    let gone = || {
        format!(
            "openwatch serve ({}) stopped answering before the query finished",
            path.display()
        )
    };
    let mut request = serde_json::to_vec(invocation)?;
    request.push(b'\n');
    if request.len() as u64 > MAX_REQUEST_BYTES {
        // the server would stop reading at its cap and answer with this error
        eprintln!(
            "error: the query request is larger than openwatch serve reads ({} MiB)",
            MAX_REQUEST_BYTES >> 20
        );
        return Ok(Forwarded::Answered(ExitCode::from(2)));
    }
    (&stream).write_all(&request).with_context(gone)?;
    #[cfg(target_os = "linux")]
    let _interrupt = {
        use std::os::fd::AsRawFd;
        FORWARDING_FD.store(stream.as_raw_fd(), std::sync::atomic::Ordering::SeqCst);
        // SAFETY: installs a handler that only makes async-signal-safe calls.
        #[allow(unsafe_code)]
        unsafe {
            libc::signal(
                libc::SIGINT,
                on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
        ClearOnDrop
    };
    let mut reply = BufReader::with_capacity(64 << 10, &stream);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut bytes = Vec::new();
    // the spinner goes before anything else is written (as in a local run)
    let mut bar = invocation.progress.then(crate::cmd::query::spinner);
    let clear = |bar: &mut Option<indicatif::ProgressBar>| {
        if let Some(bar) = bar.take() {
            bar.finish_and_clear();
        }
    };
    loop {
        reply.read_exact(&mut head).with_context(gone)?;
        let n = u32::from_le_bytes([head[1], head[2], head[3], head[4]]);
        match head[0] {
            PROGRESS => {
                read_frame(&mut reply, n, &mut bytes).with_context(gone)?;
                if let (Some(bar), Some(r), Some(b)) = (
                    &bar,
                    bytes.get(..8).and_then(|r| r.try_into().ok()),
                    bytes.get(8..16).and_then(|b| b.try_into().ok()),
                ) {
                    bar.set_message(crate::cmd::query::progress_message(
                        u64::from_le_bytes(r),
                        u64::from_le_bytes(b),
                    ));
                }
            }
            STDOUT => {
                clear(&mut bar);
                read_frame(&mut reply, n, &mut bytes).with_context(gone)?;
                out.write_all(&bytes)?;
            }
            STDERR => {
                clear(&mut bar);
                read_frame(&mut reply, n, &mut bytes).with_context(gone)?;
                out.flush()?;
                std::io::stderr().lock().write_all(&bytes)?;
            }
            EXIT => {
                clear(&mut bar);
                out.flush()?;
                return Ok(Forwarded::Answered(ExitCode::from(
                    u8::try_from(n).unwrap_or(2),
                )));
            }
            other => anyhow::bail!(
                "unexpected reply from openwatch serve ({}): frame tag {other}",
                path.display()
            ),
        }
    }
}

/// Clears [`FORWARDING_FD`] (before the socket closes) and restores Ctrl-C's default.
#[cfg(target_os = "linux")]
struct ClearOnDrop;

#[cfg(target_os = "linux")]
impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        FORWARDING_FD.store(-1, std::sync::atomic::Ordering::SeqCst);
        // SAFETY: restores the default disposition of SIGINT.
        #[allow(unsafe_code)]
        unsafe {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
        }
    }
}

/// Reads a frame's `n` bytes into `bytes` (replacing what it held).
fn read_frame(from: &mut impl Read, n: u32, bytes: &mut Vec<u8>) -> std::io::Result<()> {
    bytes.clear();
    from.take(u64::from(n)).read_to_end(bytes)?;
    if bytes.len() != n as usize {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

/// The server's end: a listening query socket and the task that answers it. Dropping it
/// without [`QuerySocket::close`] leaves the socket file, which the next server replaces.
pub struct QuerySocket {
    path: PathBuf,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl QuerySocket {
    /// Listens on `<data_dir>/query.sock` and answers queries over `store` with `base`
    /// (lookup tables, timeout) until [`QuerySocket::close`]. Must run inside a tokio
    /// runtime. An existing socket file is replaced: the caller holds the store's
    /// exclusive lock, so no other server can be listening on it.
    ///
    /// # Errors
    /// The socket cannot be created (permissions; on other systems than Linux, a path
    /// longer than a socket address holds): the server runs on without it, and
    /// `openwatch query` reports the data directory as in use.
    pub fn listen(
        data_dir: &Path,
        store: Arc<ow_storage::Store>,
        base: EngineConfig,
    ) -> anyhow::Result<QuerySocket> {
        let path = data_dir.join(SOCKET_NAME);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).context(format!("removing {}", path.display())),
        }
        let (address, dir) = socket_address(data_dir);
        let listener = tokio::net::UnixListener::bind(&address)
            .with_context(|| format!("creating the query socket {}", path.display()))?;
        drop(dir);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("making {} owner-only", path.display()))?;
        let owner = std::fs::metadata(&path)
            .with_context(|| format!("reading {}", path.display()))?
            .uid();
        let base = Arc::new(base);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, owner, store, base, stopped));
        Ok(QuerySocket { path, stop, task })
    }

    /// Stops accepting, cancels the queries being answered and waits (up to 10 s) for their
    /// replies ("query cancelled") to be sent, then removes the socket file.
    pub async fn close(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Accepts and answers connections until `stopped` turns true, then drains the answers.
async fn accept_loop(
    listener: tokio::net::UnixListener,
    owner: u32,
    store: Arc<ow_storage::Store>,
    base: Arc<EngineConfig>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let mut answers = tokio::task::JoinSet::new();
    let mut last_warning: Option<std::time::Instant> = None;
    loop {
        while answers.try_join_next().is_some() {}
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stopped.changed() => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // e.g. out of file descriptors: say so now and then, and back off
                if last_warning.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(60)) {
                    tracing::warn!(error = %e, "query socket: accept failed");
                    last_warning = Some(std::time::Instant::now());
                }
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                continue;
            }
        };
        // Only the socket's owner (the chmod in `listen` closes the file to others; this
        // covers a connection made between bind and chmod, and root).
        match stream.peer_cred() {
            Ok(cred) if cred.uid() == owner => {}
            _ => {
                // say so (best effort: a fresh socket has room for five bytes), then close
                let _ = stream.try_write(&[DENIED, 0, 0, 0, 0]);
                continue;
            }
        }
        let store = store.clone();
        let base = base.clone();
        let stopped = stopped.clone();
        answers.spawn(async move {
            if let Err(e) = answer(stream, &store, &base, stopped).await {
                tracing::debug!(error = %e, "query socket: connection ended early");
            }
        });
    }
    drop(listener);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while answers.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        answers.abort_all();
    }
}

/// Answers one connection: announces itself, reads the invocation, runs it (cancelled when
/// the client goes away or the server stops), sends the frames.
async fn answer(
    stream: tokio::net::UnixStream,
    store: &Arc<ow_storage::Store>,
    base: &EngineConfig,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut hello = vec![ACCEPTED];
    hello.extend_from_slice(&PROTOCOL_VERSION.to_le_bytes());
    write.write_all(&hello).await?;
    let mut read = tokio::io::BufReader::new(read);
    let mut line = Vec::new();
    let mut waiting = stopped.clone();
    let mut limited = (&mut read).take(MAX_REQUEST_BYTES + 1);
    tokio::select! {
        r = tokio::time::timeout(REQUEST_TIMEOUT, limited.read_until(b'\n', &mut line)) => match r {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Ok(()), // a client that sends nothing: close
        },
        _ = waiting.wait_for(|&s| s) => return Ok(()),
    }
    let frames = Arc::new(Mutex::new(Vec::new()));
    let mut err = FrameWriter {
        tag: STDERR,
        frames: frames.clone(),
    };
    let code = match serde_json::from_slice::<Invocation>(&line) {
        Err(_) if line.len() as u64 > MAX_REQUEST_BYTES => {
            let _ = writeln!(
                err,
                "error: the query request is larger than openwatch serve reads ({} MiB)",
                MAX_REQUEST_BYTES >> 20
            );
            2
        }
        Err(e) => {
            // A client of another version: say so rather than guess.
            let _ = writeln!(
                err,
                "error: openwatch serve could not read the query request ({e}); is the \
                 server the same version as this openwatch?"
            );
            2
        }
        Ok(invocation) => {
            let cancel = CancelToken::new();
            // The client going away (Ctrl-C, killed) or the server stopping cancels the
            // query.
            let watch = {
                let cancel = cancel.clone();
                let mut stopped = stopped.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    loop {
                        tokio::select! {
                            r = read.read(&mut buf) => match r {
                                Ok(0) | Err(_) => break,
                                Ok(_) => {}
                            },
                            _ = stopped.wait_for(|&s| s) => break,
                        }
                    }
                    cancel.cancel();
                })
            };
            let mut out = std::io::BufWriter::with_capacity(
                64 << 10,
                FrameWriter {
                    tag: STDOUT,
                    frames: frames.clone(),
                },
            );
            // progress frames go out as the query runs; the output waits for its end
            let (sender, mut updates) = tokio::sync::watch::channel(None::<(u64, u64)>);
            let asked = invocation.progress;
            let progress = move |p: ow_query::Progress| {
                if asked {
                    sender.send_replace(Some((p.records_scanned, p.bytes_scanned)));
                }
            };
            let result = {
                let run = crate::cmd::query::execute(
                    store,
                    base,
                    &invocation,
                    cancel.clone(),
                    &progress,
                    &|| {},
                    &mut out,
                    &mut err,
                );
                tokio::pin!(run);
                let mut client_reads = true;
                loop {
                    tokio::select! {
                        result = &mut run => break result,
                        Ok(()) = updates.changed(), if client_reads => {
                            let update = *updates.borrow_and_update();
                            if let Some((records, bytes)) = update {
                                let mut frame = vec![PROGRESS];
                                frame.extend_from_slice(&16u32.to_le_bytes());
                                frame.extend_from_slice(&records.to_le_bytes());
                                frame.extend_from_slice(&bytes.to_le_bytes());
                                // a client that went away: its watch cancels the query
                                client_reads = write.write_all(&frame).await.is_ok();
                            }
                        }
                    }
                }
            };
            let code = match result {
                Ok(code) => code,
                Err(e) => {
                    let _ = out.flush();
                    let _ = writeln!(err, "error: {}", crate::error_text(&e));
                    2
                }
            };
            let _ = out.flush();
            watch.abort();
            if code != 0 && cancel.is_cancelled() && *stopped.borrow() {
                let _ = writeln!(err, "note: openwatch serve stopped while the query ran");
            }
            code
        }
    };
    drop(err);
    let mut bytes = std::mem::take(&mut *frames.lock().unwrap_or_else(|e| e.into_inner()));
    bytes.push(EXIT);
    bytes.extend_from_slice(&u32::from(code).to_le_bytes());
    write.write_all(&bytes).await?;
    write.shutdown().await
}

/// A `Write` that appends what it is given as frames of one tag to a shared buffer, so that
/// stdout and stderr keep the order in which they were written.
struct FrameWriter {
    tag: u8,
    frames: Arc<Mutex<Vec<u8>>>,
}

impl Write for FrameWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        let n = data.len().min(u32::MAX as usize);
        let mut frames = self.frames.lock().unwrap_or_else(|e| e.into_inner());
        frames.push(self.tag);
        frames.extend_from_slice(&(n as u32).to_le_bytes());
        frames.extend_from_slice(&data[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
