//! Child processes that lead their own process group, so a timeout or Ctrl-C can kill a command
//! together with every process it started (a shell's children, a test runner's workers).
//!
//! Spawn the child with [`std::os::unix::process::CommandExt::process_group`]`(0)`: its pid is
//! then its process group id, which [`kill_group`] signals.

use std::io;
use std::process::{Child, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Interval between checks of a running child's status.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Sends SIGKILL to the process group led by `pid`. Errors are ignored, because the group may
/// already be gone.
pub fn kill_group(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// Outcome of [`wait_or_kill`].
#[derive(Debug)]
pub enum WaitEnd {
    /// The child exited on its own.
    Exited(ExitStatus),
    /// The timeout passed, so the group was killed and the child reaped.
    TimedOut,
    /// The interrupt flag was set, so the group was killed and the child reaped.
    Interrupted,
}

/// Waits for `child`, which must lead its own process group, until it exits, `timeout` passes
/// or `interrupt` is set. In the last two cases kills the whole group and reaps the child.
pub fn wait_or_kill(
    child: &mut Child,
    timeout: Option<Duration>,
    interrupt: &AtomicBool,
) -> io::Result<WaitEnd> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(WaitEnd::Exited(status));
        }
        let end = if interrupt.load(Ordering::Relaxed) {
            Some(WaitEnd::Interrupted)
        } else if timeout.is_some_and(|limit| started.elapsed() >= limit) {
            Some(WaitEnd::TimedOut)
        } else {
            None
        };
        if let Some(end) = end {
            kill_group(child.id());
            child.wait()?;
            return Ok(end);
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};

    /// Returns whether process `pid` exists and is not a zombie waiting to be reaped.
    fn running(pid: i32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // The state follows the command name, which is in parentheses.
            Ok(stat) => stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
            Err(_) => false,
        }
    }

    fn spawn_in_group(script: &str, dir: &std::path::Path) -> Child {
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(dir)
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn timeout_kills_grandchildren() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = spawn_in_group("sleep 30 & echo $! > pid; wait", dir.path());
        let pid_file = dir.path().join("pid");
        let started = Instant::now();
        let end = wait_or_kill(
            &mut child,
            Some(Duration::from_millis(500)),
            &AtomicBool::new(false),
        )
        .unwrap();
        assert!(matches!(end, WaitEnd::TimedOut), "{end:?}");
        assert!(started.elapsed() < Duration::from_secs(10));

        let grandchild: i32 = std::fs::read_to_string(pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The orphaned grandchild is reaped by init, which may take a moment.
        let deadline = Instant::now() + Duration::from_secs(5);
        while running(grandchild) && Instant::now() < deadline {
            std::thread::sleep(POLL_INTERVAL);
        }
        assert!(!running(grandchild), "sleep {grandchild} survived the kill");
    }

    #[test]
    fn exit_before_timeout_returns_status() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = spawn_in_group("exit 3", dir.path());
        let end = wait_or_kill(
            &mut child,
            Some(Duration::from_secs(10)),
            &AtomicBool::new(false),
        )
        .unwrap();
        match end {
            WaitEnd::Exited(status) => assert_eq!(status.code(), Some(3)),
            other => panic!("expected an exit, got {other:?}"),
        }
    }

    #[test]
    fn interrupt_kills_without_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = spawn_in_group("sleep 30", dir.path());
        let end = wait_or_kill(&mut child, None, &AtomicBool::new(true)).unwrap();
        assert!(matches!(end, WaitEnd::Interrupted), "{end:?}");
    }
}
