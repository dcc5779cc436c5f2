//! `cargo xtask deploy-check`: the deployment files as the tools that read them see them. Each
//! Kubernetes kustomization (`deploy/kubernetes/base` and every overlay) is rendered with
//! `$KUBECTL kustomize` (`kubectl` unless `KUBECTL` names another: `.ci/run` names Debian's
//! 1.20, for which the files are written) and validated with `kubernetes-validate --strict` against Kubernetes
//! 1.30; every GitHub workflow is checked against the workflow schema (`check-jsonschema
//! --builtin-schema vendor.github-workflows`). Both checkers come from Python's package index and
//! work offline.

use std::path::Path;
use std::process::{Command, ExitCode};

use crate::workspace_root;

const KUBERNETES_VERSION: &str = "1.30";

pub(crate) fn run() -> ExitCode {
    match check() {
        Ok(()) => {
            println!("==> the deployment files passed");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("deploy-check: {error}");
            ExitCode::FAILURE
        }
    }
}

fn check() -> Result<(), String> {
    let root = workspace_root();
    let kubernetes = root.join("deploy/kubernetes");
    let mut kustomizations = vec![kubernetes.join("base")];
    let overlays = std::fs::read_dir(kubernetes.join("overlays"))
        .map_err(|error| format!("deploy/kubernetes/overlays: {error}"))?;
    let mut overlays: Vec<_> = overlays.flatten().map(|entry| entry.path()).collect();
    overlays.sort();
    kustomizations.extend(overlays);
    let kubectl = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".to_owned());
    let version = output(Command::new(&kubectl).args(["version", "--client"]), "kubectl version")?;
    println!("==> rendering with {kubectl}: {}", version.lines().next().unwrap_or_default());
    let rendered_dir = root.join("target/deploy-check");
    std::fs::create_dir_all(&rendered_dir).map_err(|error| error.to_string())?;
    for dir in &kustomizations {
        let name = dir.strip_prefix(&root).unwrap_or(dir).to_string_lossy().replace('/', "-");
        let rendered = rendered_dir.join(format!("{name}.yaml"));
        let yaml = output(Command::new(&kubectl).arg("kustomize").arg(dir), "kubectl kustomize")?;
        std::fs::write(&rendered, yaml).map_err(|error| error.to_string())?;
        output(
            Command::new("kubernetes-validate")
                .args(["--strict", "--kubernetes-version", KUBERNETES_VERSION])
                .arg(&rendered),
            "kubernetes-validate",
        )?;
        println!(
            "==> {} renders and validates against Kubernetes {KUBERNETES_VERSION}",
            display(&root, dir)
        );
    }
    let workflows = root.join(".github/workflows");
    let mut files: Vec<_> = std::fs::read_dir(&workflows)
        .map_err(|error| format!(".github/workflows: {error}"))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yml" || ext == "yaml"))
        .collect();
    files.sort();
    output(
        Command::new("check-jsonschema")
            .args(["--builtin-schema", "vendor.github-workflows"])
            .args(&files),
        "check-jsonschema",
    )?;
    println!("==> {} workflows match GitHub's workflow schema", files.len());
    Ok(())
}

fn display(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

/// Runs `command`; its stdout, or an error with everything it printed.
fn output(command: &mut Command, name: &str) -> Result<String, String> {
    let output =
        command.output().map_err(|error| format!("{name}: {error} (.ci/run installs it)"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(format!("{name} failed:\n{stdout}{}", String::from_utf8_lossy(&output.stderr)))
    }
}
