//! `cargo xtask image [--test]`: the container image from `Containerfile`, and its check.
//!
//! The binary is built static against glibc (`-C target-feature=+crt-static` with an explicit
//! `--target`, which keeps build scripts and proc-macros dynamic); the context holds it as
//! `amd64/jwtgate` beside the host's CA bundle, as the release workflow's context does. podman
//! builds with `--format docker` (the OCI format drops `HEALTHCHECK`); docker where podman is
//! absent.
//!
//! `--test` runs the image the way these machines allow (runc, cgroupfs, no default ulimits,
//! the host's network: workarounds of the test, not of the image) and checks what a platform
//! relies on: the probes, a valid and a forged token against a key set whose host name only
//! `--add-host` knows, the user, a read-only root, the health check, and the shutdown delay.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output, Stdio};
use std::time::Duration;

use crate::workspace_root;

const TARGET: &str = "x86_64-unknown-linux-gnu";
const IMAGE: &str = "localhost/jwtgate:dev";
const CONTAINER: &str = "jwtgate-image-test";
const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// The issue's budget for the image.
const MOST_BYTES: u64 = 20 * 1024 * 1024;
/// A host name only the container's `/etc/hosts` knows.
const KEY_SET_HOST: &str = "jwks.image-test.internal";

pub(crate) fn run(args: &[String]) -> ExitCode {
    let test = args.iter().any(|arg| arg == "--test");
    let outcome = build().and_then(|engine| if test { check(&engine) } else { Ok(()) });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("image: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The container engine: podman, else docker.
struct Engine {
    program: &'static str,
    /// `CONTAINERS_CONF` for podman: no default ulimits, which these machines refuse.
    conf: Option<PathBuf>,
}

impl Engine {
    fn command(&self) -> Command {
        let mut command = Command::new(self.program);
        if let Some(conf) = &self.conf {
            command.env("CONTAINERS_CONF", conf);
            command.args(["--runtime", "runc", "--cgroup-manager", "cgroupfs"]);
        }
        command
    }

    fn output(&self, args: &[&str]) -> Result<Output, String> {
        self.command()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|error| format!("{} {}: {error}", self.program, args.join(" ")))
    }

    /// Runs and returns stdout; a failure is an error naming the command and its stderr.
    fn run(&self, args: &[&str]) -> Result<String, String> {
        let output = self.output(args)?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
        } else {
            Err(format!(
                "{} {} failed: {}",
                self.program,
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    }
}

fn engine(context: &Path) -> Result<Engine, String> {
    let works = |program: &str| {
        Command::new(program).arg("--version").output().is_ok_and(|out| out.status.success())
    };
    if works("podman") {
        let conf = context.with_file_name("containers.conf");
        std::fs::write(&conf, "[containers]\ndefault_ulimits = []\n")
            .map_err(|error| format!("{}: {error}", conf.display()))?;
        Ok(Engine { program: "podman", conf: Some(conf) })
    } else if works("docker") {
        Ok(Engine { program: "docker", conf: None })
    } else {
        Err("podman or docker is needed (apt-get install podman runc)".to_owned())
    }
}

/// Builds the static binary and the image; returns the engine that built it.
fn build() -> Result<Engine, String> {
    let root = workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    println!("==> static jwtgate for {TARGET}");
    let status = Command::new(&cargo)
        .current_dir(&root)
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .args(["build", "--release", "--locked", "--target", TARGET, "-p", "jwtgate-server"])
        .args(["--bin", "jwtgate"])
        .status()
        .map_err(|error| format!("cargo build: {error}"))?;
    if !status.success() {
        return Err("the static build failed".to_owned());
    }
    let binary = root.join("target").join(TARGET).join("release/jwtgate");
    let ldd = Command::new("ldd").arg(&binary).output().map_err(|error| format!("ldd: {error}"))?;
    let ldd =
        String::from_utf8_lossy(&ldd.stdout).into_owned() + &String::from_utf8_lossy(&ldd.stderr);
    if !ldd.contains("statically linked") {
        return Err(format!("{} is not static: ldd says {}", binary.display(), ldd.trim()));
    }
    let context = root.join("target/image/context");
    let copy = |from: &Path, to: &Path| {
        std::fs::create_dir_all(to.parent().unwrap_or(to))
            .and_then(|()| std::fs::copy(from, to))
            .map_err(|error| format!("{} -> {}: {error}", from.display(), to.display()))
    };
    copy(&binary, &context.join("amd64/jwtgate"))?;
    copy(Path::new(CA_BUNDLE), &context.join("ca-certificates.crt"))?;
    let engine = engine(&context)?;
    let containerfile = root.join("Containerfile");
    let version = format!("VERSION={}", workspace_version(&root));
    println!("==> {IMAGE} with {}", engine.program);
    let mut args = vec!["build", "--build-arg", &version, "-t", IMAGE];
    if engine.program == "podman" {
        args.extend(["--format", "docker"]);
    }
    let containerfile = containerfile.to_string_lossy();
    let context = context.to_string_lossy();
    args.extend(["-f", &containerfile, &context]);
    engine.run(&args)?;
    let size = engine.run(&["image", "inspect", "--format", "{{.Size}}", IMAGE])?;
    let bytes: u64 = size.parse().map_err(|_| format!("image size {size:?}"))?;
    #[expect(clippy::cast_precision_loss, reason = "a size in megabytes")]
    let megabytes = bytes as f64 / 1_048_576.0;
    println!("==> {IMAGE}: {megabytes:.1} MiB");
    if bytes > MOST_BYTES {
        return Err(format!("the image is {megabytes:.1} MiB, over 20 MiB"));
    }
    Ok(engine)
}

/// `version = "..."` of the workspace manifest.
fn workspace_version(root: &Path) -> String {
    std::fs::read_to_string(root.join("Cargo.toml"))
        .ok()
        .and_then(|manifest| {
            manifest.lines().find_map(|line| {
                line.strip_prefix("version = \"")
                    .and_then(|rest| rest.strip_suffix('"'))
                    .map(str::to_owned)
            })
        })
        .unwrap_or_else(|| "0.0.0".to_owned())
}

/// The material `examples/container_material.rs` prints: a key set and two tokens.
struct Material {
    jwks: String,
    token: String,
    forged: String,
}

fn material() -> Result<Material, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["run", "-q", "--locked", "-p", "jwtgate-server", "--example", "container_material"])
        .output()
        .map_err(|error| format!("container_material: {error}"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let value = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{name}=")).map(str::to_owned))
            .ok_or_else(|| format!("container_material printed no {name}"))
    };
    Ok(Material { jwks: value("JWKS")?, token: value("TOKEN")?, forged: value("FORGED")? })
}

/// A key set server on loopback answering every request with `jwks`; returns its port.
fn serve_key_set(jwks: String) -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|error| error.to_string())?;
    let port = listener.local_addr().map_err(|error| error.to_string())?.port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                line.clear();
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: max-age=300\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{jwks}",
                jwks.len()
            );
            let _ = (&stream).write_all(answer.as_bytes());
        }
    });
    Ok(port)
}

/// A free loopback port (bound and released).
fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|error| error.to_string())?;
    listener.local_addr().map(|address| address.port()).map_err(|error| error.to_string())
}

/// One GET on loopback: the status and the whole answer.
fn get(port: u16, path: &str, authorization: Option<&str>) -> Result<(u16, String), String> {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|error| format!("{path}: {error}"))?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let authorization =
        authorization.map(|value| format!("Authorization: {value}\r\n")).unwrap_or_default();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n{authorization}Connection: close\r\n\r\n")
        .map_err(|error| format!("{path}: {error}"))?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).map_err(|error| format!("{path}: {error}"))?;
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| format!("{path}: no status in {answer:?}"))?;
    Ok((status, answer))
}

/// Polls `path` until it answers `status`, for up to `seconds`.
fn wait_for(port: u16, path: &str, status: u16, seconds: u64) -> Result<(), String> {
    let mut last = String::from("no answer");
    for _ in 0..seconds * 10 {
        match get(port, path, None) {
            Ok((got, _)) if got == status => return Ok(()),
            Ok((got, answer)) => last = format!("{got}: {answer}"),
            Err(error) => last = error,
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("{path} did not answer {status} within {seconds} s (last: {last})"))
}

/// Removes the test container however the check ends.
struct Cleanup<'e>(&'e Engine);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let _ = self.0.output(&["rm", "-f", CONTAINER]);
    }
}

fn check(engine: &Engine) -> Result<(), String> {
    let material = material()?;
    let key_set_port = serve_key_set(material.jwks)?;
    let port = free_port()?;
    let secret = format!(r#"{{"jwk_url":"http://{KEY_SET_HOST}:{key_set_port}/jwks.json"}}"#);
    let _ = engine.output(&["rm", "-f", CONTAINER]);
    let cleanup = Cleanup(engine);
    let (secret_env, port_env) =
        (format!("HASURA_GRAPHQL_JWT_SECRET={secret}"), format!("JWTGATE_PORT={port}"));
    let add_host = format!("{KEY_SET_HOST}:127.0.0.1");
    println!("==> running {IMAGE} read-only on port {port}");
    engine.run(&[
        "run",
        "-d",
        "--name",
        CONTAINER,
        "--network",
        "host",
        "--read-only",
        "--add-host",
        &add_host,
        "-e",
        &secret_env,
        "-e",
        &port_env,
        "-e",
        "JWTGATE_SHUTDOWN_DELAY=1",
        IMAGE,
    ])?;
    let logs = || {
        engine.output(&["logs", CONTAINER]).map(|out| {
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr)
        })
    };
    let with_logs =
        |error: String| format!("{error}\ncontainer logs:\n{}", logs().unwrap_or_default());
    wait_for(port, "/healthz", 200, 20).map_err(with_logs)?;
    wait_for(port, "/readyz", 200, 10).map_err(with_logs)?;
    check_tokens(port, &material.token, &material.forged).map_err(with_logs)?;
    check_user(engine)?;
    engine.run(&["healthcheck", "run", CONTAINER]).map_err(with_logs)?;
    println!("==> health check passed");
    check_shutdown(engine, port).map_err(with_logs)?;
    drop(cleanup);
    println!("==> the image passed");
    Ok(())
}

fn check_tokens(port: u16, token: &str, forged: &str) -> Result<(), String> {
    let (status, answer) = get(port, "/v1/auth", Some(&format!("Bearer {token}")))?;
    let lower = answer.to_ascii_lowercase();
    if status != 200 || !lower.contains("x-hasura-role: user") {
        return Err(format!("a valid token got {status}: {answer}"));
    }
    let (status, answer) = get(port, "/v1/auth", Some(&format!("Bearer {forged}")))?;
    if status != 401 || !answer.contains("invalid-jwt") {
        return Err(format!("a forged token got {status}: {answer}"));
    }
    println!("==> a valid token 200, a forged one 401, keys from http://{KEY_SET_HOST}");
    Ok(())
}

/// The process runs as 65532 (a scratch image has no `ps`: read its `/proc` status).
fn check_user(engine: &Engine) -> Result<(), String> {
    let pid = engine.run(&["inspect", "-f", "{{.State.Pid}}", CONTAINER])?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|error| format!("/proc/{pid}/status: {error}"))?;
    let uid = status.lines().find_map(|line| line.strip_prefix("Uid:")).unwrap_or_default();
    if uid.split_whitespace().all(|id| id == "65532") && !uid.trim().is_empty() {
        println!("==> running as uid 65532");
        Ok(())
    } else {
        Err(format!("the process's uids are {uid:?}, not 65532"))
    }
}

/// SIGTERM: `/readyz` answers 503 during the 1 s delay, then the process exits 0, within 12 s.
fn check_shutdown(engine: &Engine, port: u16) -> Result<(), String> {
    engine.run(&["kill", "--signal", "TERM", CONTAINER])?;
    wait_for(port, "/readyz", 503, 1)?;
    let (status, _) = get(port, "/healthz", None)?;
    if status != 200 {
        return Err(format!("/healthz answered {status} during the shutdown delay"));
    }
    let mut waiting = engine
        .command()
        .args(["wait", CONTAINER])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|error| format!("wait: {error}"))?;
    for _ in 0..120 {
        if let Some(done) = waiting.try_wait().map_err(|error| error.to_string())? {
            let mut code = String::new();
            if let Some(mut stdout) = waiting.stdout.take() {
                let _ = stdout.read_to_string(&mut code);
            }
            return if done.success() && code.trim() == "0" {
                println!("==> SIGTERM: /readyz 503 during the delay, then exit 0");
                Ok(())
            } else {
                Err(format!("the container exited with {:?}", code.trim()))
            };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = waiting.kill();
    Err("the container did not stop within 12 s of SIGTERM".to_owned())
}
