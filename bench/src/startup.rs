//! `bench-startup ADDR LOGFILE -- COMMAND [ARGS...]`: starts COMMAND (its stdout and stderr
//! appended to LOGFILE), polls `GET /api/system/health` on
//! ADDR every millisecond over plain TCP, and prints `<pid> <milliseconds>` once it answers 200:
//! the time from exec to the first healthy answer. The child keeps running (it is left to the
//! caller, who stops it by pid). Exits 1 if no 200 arrives
//! within 30 s or the child dies first.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

fn healthy(addr: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request =
        format!("GET /api/system/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (addr, log_path, command) = match args.as_slice() {
        [addr, log, dashes, command @ ..] if dashes == "--" && !command.is_empty() => {
            (addr, log, command)
        }
        _ => {
            eprintln!("usage: bench-startup ADDR LOGFILE -- COMMAND [ARGS...]");
            return ExitCode::from(2);
        }
    };
    let log = match OpenOptions::new().create(true).append(true).open(log_path) {
        Ok(log) => log,
        Err(err) => {
            eprintln!("bench-startup: cannot open {log_path}: {err}");
            return ExitCode::FAILURE;
        }
    };
    let (Ok(out), Ok(err)) = (log.try_clone(), log.try_clone()) else {
        eprintln!("bench-startup: cannot share {log_path}");
        return ExitCode::FAILURE;
    };
    let started = Instant::now();
    let spawned = Command::new(&command[0])
        .args(&command[1..])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(err) => {
            eprintln!("bench-startup: cannot start {}: {err}", command[0]);
            return ExitCode::FAILURE;
        }
    };
    while started.elapsed() < Duration::from_secs(30) {
        if healthy(addr) {
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            println!("{} {ms:.1}", child.id());
            return ExitCode::SUCCESS;
        }
        if let Ok(Some(status)) = child.try_wait() {
            eprintln!("bench-startup: {} exited early: {status}", command[0]);
            return ExitCode::FAILURE;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    eprintln!("bench-startup: no healthy answer from {addr} within 30 s");
    let _ = child.kill();
    ExitCode::FAILURE
}
