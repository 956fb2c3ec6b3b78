//! Child processes that lead their own process group, so a timeout or Ctrl-C can kill a command
//! together with every process it started (a shell's children, a test runner's workers).
//!
//! Spawn the child with [`std::os::unix::process::CommandExt::process_group`]`(0)`: its pid is
//! then its process group id, which [`kill_group`] signals.

use std::io;
use std::process::{Child, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Interval between checks of a running child's status.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Process groups that [`wait_or_kill`] calls are waiting on, so a process that exits at once (a
/// second Ctrl-C) can kill them first instead of leaving them running.
static ACTIVE_GROUPS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Locks [`ACTIVE_GROUPS`]. A panic elsewhere while holding the lock cannot corrupt a list of
/// pids, so a poisoned lock is used as is.
fn active_groups() -> MutexGuard<'static, Vec<u32>> {
    ACTIVE_GROUPS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Kills every process group a [`wait_or_kill`] call is waiting on. Meant for the Ctrl-C
/// handler's thread right before the process exits.
pub fn kill_active_groups() {
    for pid in active_groups().drain(..) {
        kill_group(pid);
    }
}

/// Registers a process group in [`ACTIVE_GROUPS`] for as long as the value lives.
struct ActiveGroup(u32);

impl ActiveGroup {
    fn register(pid: u32) -> ActiveGroup {
        active_groups().push(pid);
        ActiveGroup(pid)
    }
}

impl Drop for ActiveGroup {
    fn drop(&mut self) {
        let mut groups = active_groups();
        if let Some(index) = groups.iter().position(|&pid| pid == self.0) {
            groups.swap_remove(index);
        }
    }
}

/// Time a process group gets to exit after a polite signal before it is killed.
const GRACE: Duration = Duration::from_secs(2);

/// Sends `signal` to the process group led by `pid`. Errors are ignored, because the group may
/// already be gone.
fn signal_group(pid: u32, signal: nix::sys::signal::Signal) {
    if let Ok(pid) = i32::try_from(pid) {
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), signal);
    }
}

/// Sends SIGKILL to the process group led by `pid`. Errors are ignored, because the group may
/// already be gone.
pub fn kill_group(pid: u32) {
    signal_group(pid, nix::sys::signal::Signal::SIGKILL);
}

/// Sends `signal` to the group of `child`, waits up to [`GRACE`] for the child to exit, then
/// kills the group (children the command left behind go too) and reaps the child.
fn stop_group(child: &mut Child, signal: nix::sys::signal::Signal) -> io::Result<()> {
    signal_group(child.id(), signal);
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline && child.try_wait()?.is_none() {
        std::thread::sleep(POLL_INTERVAL);
    }
    kill_group(child.id());
    child.wait()?;
    Ok(())
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
/// or `interrupt` is set. On a timeout the group gets SIGTERM, on an interrupt SIGINT (what
/// Ctrl-C would have sent it from the terminal), so the command can clean up. After a grace
/// period of 2 s the whole group is killed and the child reaped. When the child exits on its
/// own, processes it left running in its group (background jobs) are killed too.
pub fn wait_or_kill(
    child: &mut Child,
    timeout: Option<Duration>,
    interrupt: &AtomicBool,
) -> io::Result<WaitEnd> {
    let started = Instant::now();
    let _active = ActiveGroup::register(child.id());
    loop {
        if let Some(status) = child.try_wait()? {
            // Linux does not reuse a pid while a process group with that id has members, so
            // after the reap this signal reaches the child's leftover background jobs.
            // NOTE: when the group is already empty, the pid is free. A new process that took it
            // since the reap and leads its own group would be killed, in the few microseconds
            // between the two calls.
            kill_group(child.id());
            return Ok(WaitEnd::Exited(status));
        }
        if interrupt.load(Ordering::Relaxed) {
            stop_group(child, nix::sys::signal::Signal::SIGINT)?;
            return Ok(WaitEnd::Interrupted);
        }
        if timeout.is_some_and(|limit| started.elapsed() >= limit) {
            stop_group(child, nix::sys::signal::Signal::SIGTERM)?;
            return Ok(WaitEnd::TimedOut);
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

    fn read_pid(path: &std::path::Path) -> i32 {
        std::fs::read_to_string(path)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// Waits until process `pid` is gone. An orphan is reaped by init, which may take a moment.
    fn gone_within_seconds(pid: i32, seconds: u64) -> bool {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        while running(pid) && Instant::now() < deadline {
            std::thread::sleep(POLL_INTERVAL);
        }
        !running(pid)
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

        let grandchild = read_pid(&pid_file);
        assert!(
            gone_within_seconds(grandchild, 5),
            "sleep {grandchild} survived the kill"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn exit_kills_background_children() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = spawn_in_group("sleep 30 & echo $! > pid; exit 0", dir.path());
        let end = wait_or_kill(&mut child, None, &AtomicBool::new(false)).unwrap();
        assert!(matches!(end, WaitEnd::Exited(_)), "{end:?}");

        let background = read_pid(&dir.path().join("pid"));
        assert!(
            gone_within_seconds(background, 5),
            "sleep {background} outlived the command"
        );
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

    #[test]
    fn timeout_lets_command_clean_up() {
        // SIGTERM comes first, so the command's trap runs before the group is killed.
        let dir = tempfile::tempdir().unwrap();
        let mut child = spawn_in_group(
            "trap 'echo cleaned > out; exit 1' TERM; sleep 30 & wait",
            dir.path(),
        );
        let end = wait_or_kill(
            &mut child,
            Some(Duration::from_millis(300)),
            &AtomicBool::new(false),
        )
        .unwrap();
        assert!(matches!(end, WaitEnd::TimedOut), "{end:?}");
        let out = std::fs::read_to_string(dir.path().join("out")).unwrap();
        assert_eq!(out, "cleaned\n");
    }

    #[test]
    fn interrupt_lets_command_clean_up() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = spawn_in_group(
            "trap 'echo interrupted > out; exit 1' INT; sleep 30 & wait",
            dir.path(),
        );
        // Give the shell time to install its trap before the flag is raised.
        std::thread::sleep(Duration::from_millis(200));
        let end = wait_or_kill(&mut child, None, &AtomicBool::new(true)).unwrap();
        assert!(matches!(end, WaitEnd::Interrupted), "{end:?}");
        let out = std::fs::read_to_string(dir.path().join("out")).unwrap();
        assert_eq!(out, "interrupted\n");
    }

    #[test]
    fn waited_group_registered_until_end() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = spawn_in_group("sleep 30", dir.path());
        let pid = child.id();
        let interrupt = AtomicBool::new(false);
        let registered = || active_groups().contains(&pid);
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| wait_or_kill(&mut child, None, &interrupt).unwrap());
            let deadline = Instant::now() + Duration::from_secs(5);
            while !registered() && Instant::now() < deadline {
                std::thread::sleep(POLL_INTERVAL);
            }
            assert!(registered(), "group {pid} not registered while waited on");
            // Other tests may register their own groups meanwhile, so only this one is killed.
            kill_group(pid);
            let end = waiter.join().unwrap();
            assert!(matches!(end, WaitEnd::Exited(_)), "{end:?}");
        });
        assert!(!registered(), "group {pid} still registered after the wait");
    }
}
