//! The deployment files agree with the binary: the Kubernetes manifests (as `kubectl kustomize`
//! renders them) and the compose file name only variables the binary reads, probe and hook
//! paths it serves, on the port it listens on; and the binary, started with their arguments and
//! environment, serves those paths. A drifted path, port, variable or argument fails here.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use jwtgate_test_support::BINARY_VARIABLES;
use serde_json::Value;

use crate::support::{Server, hs256_secret, jwtgate, token};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The YAML documents of `text`, through Python's `PyYAML` (installed with kubernetes-validate).
fn yaml_documents(text: &str) -> Vec<Value> {
    let script = "import sys, json, yaml; print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d is not None]))";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("python3 is needed for this test: {error}"));
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "python3 with PyYAML is needed for this test (pip install kubernetes-validate; .ci/run does): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `kubectl kustomize DIR`, its documents.
fn kustomize(dir: &str) -> Vec<Value> {
    let output = Command::new("kubectl")
        .args(["kustomize", &workspace().join(dir).to_string_lossy()])
        .output()
        .unwrap_or_else(|error| {
            panic!("kubectl is needed for this test (apt-get install kubernetes-client): {error}")
        });
    assert!(output.status.success(), "{dir}: {}", String::from_utf8_lossy(&output.stderr));
    yaml_documents(&String::from_utf8(output.stdout).unwrap())
}

fn of_kind<'d>(documents: &'d [Value], kind: &str) -> &'d Value {
    documents
        .iter()
        .find(|document| document["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} rendered"))
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn assert_binary_reads(names: impl IntoIterator<Item = String>, source: &str) {
    for name in names {
        assert!(
            BINARY_VARIABLES.contains(&name.as_str()),
            "{source}: jwtgate does not read {name}"
        );
    }
}

/// The value after `flag` in `args`.
fn argument<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.iter().position(|arg| arg == flag).and_then(|at| args.get(at + 1)).map(String::as_str)
}

/// An empty directory of this test process's own.
fn scratch(name: &str) -> PathBuf {
    let name = name.replace('/', "-");
    let dir = std::env::temp_dir().join(format!("jwtgate-deploy-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts the binary with `args` (the listening port made 0, the host loopback) and `env`
/// (each `*_FILE` variable pointing at a file holding a test secret).
fn start_as_deployed(args: &[String], env: &BTreeMap<String, String>, dir: &Path) -> Server {
    let mut args = args.to_vec();
    for (flag, value) in [("--port", "0"), ("--host", "127.0.0.1")] {
        if let Some(at) = args.iter().position(|arg| arg == flag) {
            value.clone_into(&mut args[at + 1]);
        }
    }
    if !args.iter().any(|arg| arg == "--port") {
        args.extend(["--port".to_owned(), "0".to_owned()]);
    }
    let mut command = jwtgate();
    command.args(&args);
    for (name, value) in env {
        match name.as_str() {
            "HASURA_GRAPHQL_JWT_SECRET_FILE" => {
                let file = dir.join("jwt-secret.json");
                std::fs::write(&file, hs256_secret()).unwrap();
                command.env(name, file);
            }
            // The deployed key set needs the network; the test's secret does not.
            "HASURA_GRAPHQL_JWT_SECRET" => {
                command.env(name, hs256_secret());
            }
            "JWTGATE_PORT" => {
                command.env(name, "0");
            }
            _ => {
                command.env(name, value);
            }
        }
    }
    Server::spawn(command)
}

#[test]
fn the_kubernetes_manifests_match_the_binary() {
    for dir in ["deploy/kubernetes/base", "deploy/kubernetes/overlays/example"] {
        let documents = kustomize(dir);
        let pod = &of_kind(&documents, "Deployment")["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        let args: Vec<String> = container["args"].as_array().unwrap().iter().map(text).collect();
        assert_eq!(args.first().map(String::as_str), Some("serve"), "{dir}: {args:?}");
        let env: BTreeMap<String, String> = container["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|variable| (text(&variable["name"]), text(&variable["value"])))
            .collect();
        assert_binary_reads(env.keys().cloned(), dir);

        // One port: the one jwtgate listens on, named `http`, probed and served.
        let listening = argument(&args, "--port").unwrap_or("8081");
        let http = &container["ports"][0];
        assert_eq!(
            (text(&http["name"]).as_str(), text(&http["containerPort"]).as_str()),
            ("http", listening),
            "{dir}"
        );
        for probe in ["readinessProbe", "livenessProbe"] {
            assert_eq!(container[probe]["httpGet"]["port"], "http", "{dir}: {probe}");
        }
        let service = of_kind(&documents, "Service");
        assert_eq!(service["spec"]["ports"][0]["targetPort"], "http", "{dir}");

        // The secret file lies in the mounted Secret, and the grace period covers the delay
        // and the 10 s drain.
        let file = env.get("HASURA_GRAPHQL_JWT_SECRET_FILE").expect("the secret as a file");
        let mount = &container["volumeMounts"][0];
        let mount_path = text(&mount["mountPath"]);
        assert!(file.starts_with(&format!("{mount_path}/")), "{dir}: {file} outside {mount_path}");
        let volume = &pod["volumes"][0];
        assert_eq!(volume["name"], mount["name"], "{dir}");
        let file_name = file.rsplit('/').next().unwrap();
        if let Some(secret) = documents.iter().find(|document| document["kind"] == "Secret") {
            assert_eq!(secret["metadata"]["name"], volume["secret"]["secretName"], "{dir}");
            assert!(secret["data"].get(file_name).is_some(), "{dir}: the Secret lacks {file_name}");
        }
        let delay: u64 = argument(&args, "--shutdown-delay").unwrap_or("0").parse().unwrap();
        let grace = pod["terminationGracePeriodSeconds"].as_u64().unwrap_or(30);
        assert!(grace > delay + 10, "{dir}: grace {grace} s, delay {delay} s + 10 s drain");
        assert_eq!(pod["securityContext"]["runAsUser"], 65532, "{dir}: the image's user");

        // The binary accepts these arguments and variables and serves the probes' paths.
        let server = start_as_deployed(&args[..], &env, &scratch(dir));
        let readiness = text(&container["readinessProbe"]["httpGet"]["path"]);
        let liveness = text(&container["livenessProbe"]["httpGet"]["path"]);
        assert_eq!(server.get(&readiness, &[]).status, 200, "{dir}: {readiness}");
        assert_eq!(server.get(&liveness, &[]).status, 200, "{dir}: {liveness}");
    }
}

#[test]
fn the_compose_file_points_hasura_at_jwtgate_as_the_binary_serves_it() {
    let path = workspace().join("deploy/compose/compose.yaml");
    let compose = yaml_documents(&std::fs::read_to_string(path).unwrap()).remove(0);
    let services = &compose["services"];
    let jwtgate = &services["jwtgate"];
    assert_eq!(
        jwtgate["image"],
        format!("ghcr.io/jwtgate/jwtgate:{}", env!("CARGO_PKG_VERSION")),
        "the released image of this version"
    );
    let env: BTreeMap<String, String> = jwtgate["environment"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, value)| (name.clone(), text(value)))
        .collect();
    assert_binary_reads(env.keys().cloned(), "compose jwtgate");

    let hasura = &services["graphql-engine"]["environment"];
    let hook = text(&hasura["HASURA_GRAPHQL_AUTH_HOOK"]);
    let mode = text(&hasura["HASURA_GRAPHQL_AUTH_HOOK_MODE"]);
    let port = env.get("JWTGATE_PORT").map_or("8081", String::as_str);
    let prefix = format!("http://jwtgate:{port}");
    let path = hook.strip_prefix(&prefix).unwrap_or_else(|| panic!("{hook} is not {prefix}/..."));
    match mode.as_str() {
        "GET" => assert!(path == "/v1/auth" || path.starts_with("/v1/auth/"), "{path}"),
        "POST" => assert_eq!(path, "/v1/auth"),
        other => panic!("HASURA_GRAPHQL_AUTH_HOOK_MODE {other}"),
    }
    let depends = &services["graphql-engine"]["depends_on"]["jwtgate"]["condition"];
    assert_eq!(depends, "service_healthy", "Hasura waits for the image's health check");

    // The binary, with this environment, answers the hook: a session for a token, the
    // unauthorized role without one.
    let server = start_as_deployed(&["serve".to_owned()], &env, &scratch("compose"));
    let bearer = format!("Bearer {}", token());
    let answer = if mode == "GET" {
        server.get(path, &[("Authorization", &bearer)])
    } else {
        server.post(path, &serde_json::json!({"headers": {"Authorization": bearer}}).to_string())
    };
    assert_eq!(answer.status, 200, "{}", answer.body);
    let anonymous = server.get(path, &[]);
    let role = env.get("HASURA_GRAPHQL_UNAUTHORIZED_ROLE").cloned().unwrap_or_default();
    assert_eq!(anonymous.status, 200, "{}", anonymous.body);
    assert_eq!(anonymous.header("X-Hasura-Role"), Some(role.as_str()));
}
