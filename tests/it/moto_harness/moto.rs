//! One moto server per test binary, started on first use and killed with the binary.
//!
//! Tests share the server but not its state: each test talks to it through its own
//! [`account_proxy`](super::proxy::account_proxy), i.e. its own AWS account, so tests run
//! in parallel without resetting moto.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::raw::{c_int, c_ulong};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long moto may take to answer after it was spawned. Its first start imports
/// every service module, which takes a few seconds on a slow CI machine.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// How often a port clash (another process took the free port between our probe and
/// moto's bind) is retried with a new port before giving up.
const START_ATTEMPTS: usize = 3;

/// How much of moto's log a startup failure shows.
const LOG_TAIL_BYTES: u64 = 4000;

/// Linux `prctl` option that sends the child a signal when its parent *thread* exits.
const PR_SET_PDEATHSIG: c_int = 1;
const SIGKILL: c_ulong = 9;

unsafe extern "C" {
    /// The one libc function we need; declared here rather than adding the libc crate.
    fn prctl(option: c_int, arg2: c_ulong, ...) -> c_int;
}

/// A running moto server on 127.0.0.1.
#[derive(Debug)]
pub struct MotoServer {
    port: u16,
    pid: u32,
    log_path: PathBuf,
}

impl MotoServer {
    /// The base URL, `http://127.0.0.1:PORT`. Requests sent here directly land in
    /// moto's default account `123456789012`; prefer an account proxy.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Where moto's stdout and stderr go (one line per request; useful when a test fails).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }
}

/// The moto server of this test binary, started on the first call.
///
/// Blocks (up to [`STARTUP_TIMEOUT`]) on the first call; panics with the tail of moto's
/// log when it cannot start, and every later call panics with the same message.
pub fn moto() -> &'static MotoServer {
    static SERVER: OnceLock<Result<MotoServer, String>> = OnceLock::new();
    match SERVER.get_or_init(start_in_keeper_thread) {
        Ok(server) => server,
        Err(message) => panic!("{message}"),
    }
}

/// Spawns moto from a thread that never exits and returns once moto answers.
///
/// `PR_SET_PDEATHSIG` fires when the thread that forked the child exits, not when the
/// process does; a thread that parks forever makes it fire exactly when the test binary
/// ends (normally, by panic, or by a signal).
fn start_in_keeper_thread() -> Result<MotoServer, String> {
    let (started, outcome) = mpsc::channel();
    std::thread::Builder::new()
        .name("moto-keeper".into())
        .spawn(move || {
            let result = start_with_retries();
            let running = result.is_ok();
            let _ = started.send(result);
            if running {
                loop {
                    std::thread::park();
                }
            }
        })
        .map_err(|error| format!("cannot spawn the moto keeper thread: {error}"))?;
    outcome
        .recv()
        .map_err(|_| "the moto keeper thread died before starting moto".to_string())?
}

fn start_with_retries() -> Result<MotoServer, String> {
    let binary = find_moto_binary()?;
    let mut last_error = String::new();
    for _ in 0..START_ATTEMPTS {
        match start_once(&binary) {
            Ok(server) => return Ok(server),
            Err(error) => last_error = error,
        }
    }
    Err(last_error)
}

/// `MOTO_SERVER`, else the repository's `.venv`, else `PATH`.
pub(super) fn find_moto_binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("MOTO_SERVER") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "MOTO_SERVER={} does not exist; run scripts/test.sh (it installs moto into .venv)",
                path.display()
            ))
        };
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    if venv.is_file() {
        return Ok(venv);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("moto_server"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            "moto_server not found (MOTO_SERVER unset, no .venv/bin/moto_server, not on PATH): \
             run scripts/test.sh (it installs moto into .venv)"
                .to_string()
        })
}

fn start_once(binary: &Path) -> Result<MotoServer, String> {
    let port = free_port()?;
    // One log per test binary, overwritten by its next run, so logs do not pile up.
    let binary_name = std::env::current_exe()
        .ok()
        .and_then(|path| {
            path.file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "tests".to_string());
    let log_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("moto-{binary_name}.log"));
    let log = File::create(&log_path)
        .map_err(|error| format!("cannot create {}: {error}", log_path.display()))?;
    let log_for_stderr = log
        .try_clone()
        .map_err(|error| format!("cannot clone the moto log handle: {error}"))?;

    let mut command = Command::new(binary);
    command
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_for_stderr)
        // Its own process group, so a script can kill moto and anything it starts at once.
        .process_group(0);
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .map_err(|error| format!("cannot run {}: {error}", binary.display()))?;

    let server = MotoServer {
        port,
        pid: child.id(),
        log_path,
    };
    match wait_until_answering(&mut child, port) {
        Ok(()) => Ok(server),
        Err(reason) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(format!(
                "moto_server ({}) did not start on 127.0.0.1:{port}: {reason}\n\
                 --- tail of {} ---\n{}",
                binary.display(),
                server.log_path.display(),
                log_tail(&server.log_path)
            ))
        }
    }
}

/// A port that was free a moment ago (moto binds it next; a clash is retried).
fn free_port() -> Result<u16, String> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|error| format!("cannot find a free port on 127.0.0.1: {error}"))
}

/// Polls `GET /moto-api/` until moto answers 200, the process exits, or time runs out.
fn wait_until_answering(child: &mut Child, port: u16) -> Result<(), String> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    let mut last_problem = "no answer yet".to_string();
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("it exited with {status}"));
        }
        match moto_api_status_line(port) {
            Ok(line) if line.contains(" 200 ") => return Ok(()),
            Ok(line) => last_problem = format!("GET /moto-api/ answered {line:?}"),
            Err(error) => last_problem = error.to_string(),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "no answer within {STARTUP_TIMEOUT:?} (last: {last_problem})"
    ))
}

/// The status line of `GET /moto-api/`, using plain std I/O so no runtime is needed.
fn moto_api_status_line(port: u16) -> std::io::Result<String> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut head = [0u8; 64];
    let read = stream.read(&mut head)?;
    let text = String::from_utf8_lossy(&head[..read]);
    Ok(text.lines().next().unwrap_or_default().to_string())
}

fn log_tail(path: &Path) -> String {
    let Ok(mut file) = File::open(path) else {
        return "(no log)".into();
    };
    let length = file.metadata().map(|meta| meta.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(length.saturating_sub(LOG_TAIL_BYTES)));
    let mut tail = Vec::new();
    let _ = file.read_to_end(&mut tail);
    String::from_utf8_lossy(&tail).into_owned()
}
