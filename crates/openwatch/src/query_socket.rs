//! The query socket: `openwatch serve` answers `openwatch query` over a Unix domain socket
//! in the data directory it holds (`<data-dir>/query.sock`).
//!
//! A server holds its data directory's lock, so a query process cannot open the store while
//! it runs; instead, `openwatch query` finds the socket and hands the server its resolved
//! arguments. The server runs the query over the store it already has open (its in-memory
//! events included, its threads and memory warm) and sends back exactly what a local run
//! prints. Output, exit codes and diagnostics are the same either way; the run in the
//! server skips the query process's fixed cost (opening the store, starting threads,
//! faulting in fresh memory) and shows no progress spinner.
//!
//! Protocol (one query per connection):
//! - the client sends one line: the [`Invocation`] as JSON;
//! - the server replies with frames `[tag: u8][n: u32 little-endian][n bytes]`: `o` bytes
//!   for stdout, `e` bytes for stderr (in the order a local run writes them), then `x` with
//!   the exit code in `n` and no bytes;
//! - the client closing the connection before the reply (Ctrl-C, killed) cancels the query.
//!
//! Access: the socket file is made owner-only (mode 0600) and the server answers only peers
//! running as the socket file's owner (checked from the peer's credentials), the user who
//! can read the data directory's files anyway.

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
const STDOUT: u8 = b'o';
const STDERR: u8 = b'e';
const EXIT: u8 = b'x';

/// Largest request line the server reads (the query text and arguments; AWS caps a query
/// at 10,000 characters).
const MAX_REQUEST_BYTES: u64 = 16 << 20;

/// Runs `invocation` in the `openwatch serve` that listens on `data_dir`'s query socket,
/// copying its output to this process's stdout and stderr.
///
/// Returns `Ok(None)` when no server listens there (no socket file, or one left behind by a
/// server that is gone): the caller opens the store itself.
///
/// # Errors
/// The connection fails after the server accepted it, or the reply is malformed; writing
/// stdout or stderr fails (a closed pipe is an `io::Error` of kind `BrokenPipe`).
pub fn forward(data_dir: &Path, invocation: &Invocation) -> anyhow::Result<Option<ExitCode>> {
    let path = data_dir.join(SOCKET_NAME);
    let Ok(mut stream) = UnixStream::connect(&path) else {
        return Ok(None);
    };
    let mut request = serde_json::to_vec(invocation)?;
    request.push(b'\n');
    // A server that accepted but then refuses the peer closes the connection at once.
    if stream.write_all(&request).is_err() {
        return Ok(None);
    }
    let mut reply = BufReader::with_capacity(64 << 10, stream);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut first = true;
    loop {
        let mut head = [0u8; 5];
        match reply.read_exact(&mut head) {
            Ok(()) => {}
            // Nothing at all: the server turned this peer away (another user): run locally,
            // which reports the lock as it always did.
            Err(e) if first && e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => {
                return Err(e).context(format!(
                    "openwatch serve ({}) closed the connection before the query finished",
                    path.display()
                ))
            }
        }
        first = false;
        let n = u32::from_le_bytes([head[1], head[2], head[3], head[4]]);
        match head[0] {
            STDOUT => copy_exact(&mut reply, &mut out, n)?,
            STDERR => {
                out.flush()?;
                copy_exact(&mut reply, &mut std::io::stderr().lock(), n)?;
            }
            EXIT => {
                out.flush()?;
                return Ok(Some(ExitCode::from(u8::try_from(n).unwrap_or(2))));
            }
            other => anyhow::bail!(
                "unexpected reply from openwatch serve ({}): frame tag {other}",
                path.display()
            ),
        }
    }
}

/// Copies exactly `n` bytes of `from` to `to`.
fn copy_exact(from: &mut impl Read, to: &mut impl Write, n: u32) -> anyhow::Result<()> {
    let copied = std::io::copy(&mut from.take(u64::from(n)), to)?;
    anyhow::ensure!(
        copied == u64::from(n),
        "openwatch serve closed the connection in the middle of a reply"
    );
    Ok(())
}

/// The server's end: a listening query socket and the task that answers it. Dropping it
/// without [`QuerySocket::close`] leaves the socket file, which the next server replaces.
pub struct QuerySocket {
    path: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl QuerySocket {
    /// Listens on `<data_dir>/query.sock` and answers queries over `store` with `base`
    /// (lookup tables, timeout) until [`QuerySocket::close`]. Must run inside a tokio
    /// runtime. An existing socket file is replaced: the caller holds the store's
    /// exclusive lock, so no other server can be listening on it.
    ///
    /// # Errors
    /// The socket cannot be created (a path longer than the 107 bytes a Unix socket address
    /// holds, permissions): the server runs on without it, and `openwatch query` reports
    /// the data directory as in use.
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
        let listener = tokio::net::UnixListener::bind(&path)
            .with_context(|| format!("creating the query socket {}", path.display()))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("making {} owner-only", path.display()))?;
        let owner = std::fs::metadata(&path)
            .with_context(|| format!("reading {}", path.display()))?
            .uid();
        let base = Arc::new(base);
        let task = tokio::spawn(async move {
            loop {
                let stream = match listener.accept().await {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, "query socket: accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                // Only the socket's owner (the chmod above closes the file to others; this
                // covers a connection made between bind and chmod).
                match stream.peer_cred() {
                    Ok(cred) if cred.uid() == owner => {}
                    _ => continue,
                }
                let store = store.clone();
                let base = base.clone();
                tokio::spawn(async move {
                    if let Err(e) = answer(stream, &store, &base).await {
                        tracing::debug!(error = %e, "query socket: connection ended early");
                    }
                });
            }
        });
        Ok(QuerySocket { path, task })
    }

    /// Stops answering and removes the socket file.
    pub fn close(self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Answers one connection: reads the invocation, runs it, sends the frames.
async fn answer(
    stream: tokio::net::UnixStream,
    store: &Arc<ow_storage::Store>,
    base: &EngineConfig,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = tokio::io::BufReader::new(read);
    let mut line = Vec::new();
    (&mut read)
        .take(MAX_REQUEST_BYTES)
        .read_until(b'\n', &mut line)
        .await?;
    let frames = Arc::new(Mutex::new(Vec::new()));
    let mut err = FrameWriter {
        tag: STDERR,
        frames: frames.clone(),
    };
    let code = match serde_json::from_slice::<Invocation>(&line) {
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
            // The client going away (Ctrl-C, killed) cancels the query.
            let watch = {
                let cancel = cancel.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = read.read(&mut buf).await {
                        if n == 0 {
                            break;
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
            let code = match crate::cmd::query::execute(
                store,
                base,
                &invocation,
                cancel,
                &|_| {},
                &|| {},
                &mut out,
                &mut err,
            )
            .await
            {
                Ok(code) => code,
                Err(e) => {
                    let _ = out.flush();
                    let _ = writeln!(err, "error: {}", crate::error_text(&e));
                    2
                }
            };
            let _ = out.flush();
            watch.abort();
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
