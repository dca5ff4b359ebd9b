//! Asks an interpreter for ProxLB's version: `<python> -m proxlb -v`. ProxLB has no console
//! command (its `setup.py` declares no entry points), and `-v` exits 0 before reading any
//! config, printing `ProxLB version: 2.3.0` first (`proxlb/utils/helper.py`, v2.3.0).
//!
//! The same call tells whether the interpreter exists and whether it has the `proxlb` module,
//! so it doubles as the process backend's pre-flight check.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use plb_domain::service::ProblemKind;

use crate::ports::ServiceError;

/// How long `-v` may take: it imports ProxLB's solver (ortools, numpy, pandas) first, which
/// takes about half a second warm and several seconds on a cold disk.
const VERSION_TIMEOUT: Duration = Duration::from_secs(60);

/// The version `<python> -m proxlb -v` prints, or why it cannot run. `hint` is appended to the
/// problem's hint (the demo says how to install ProxLB).
pub async fn probe(python: &Path, hint: &str) -> Result<String, ServiceError> {
    let shown = python.display();
    let output = tokio::process::Command::new(python)
        .args(["-m", "proxlb", "-v"])
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output = match tokio::time::timeout(VERSION_TIMEOUT, output).await {
        Err(_) => {
            return Err(ServiceError::problem(
                ProblemKind::Unavailable,
                format!("{shown} -m proxlb -v did not answer within {VERSION_TIMEOUT:?}"),
                "Check that the interpreter works: run the same command in a shell.",
            ))
        }
        Ok(Err(error)) => return Err(interpreter_missing(python, &error, hint)),
        Ok(Ok(output)) => output,
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        if let Some(version) = parse_version(&stdout) {
            return Ok(version);
        }
    }
    if stderr.contains("No module named proxlb") || stderr.contains("No module named 'proxlb'") {
        return Err(ServiceError::problem(
            ProblemKind::ProxlbMissing,
            format!("{shown} has no proxlb module"),
            join_hint(
                "Install ProxLB 2.3.0 into that interpreter (pip install proxlb==2.3.0) or set \
                 PROXLB_PYTHON to one that has it.",
                hint,
            ),
        ));
    }
    if let Some(missing) = stderr
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("ModuleNotFoundError: "))
    {
        // ProxLB itself is there, but one of its dependencies is not (e.g. proxlb_solver).
        return Err(ServiceError::problem(
            ProblemKind::ProxlbMissing,
            format!("ProxLB in {shown} cannot start: {missing}"),
            join_hint(
                "Reinstall ProxLB with its dependencies (pip install proxlb==2.3.0).",
                hint,
            ),
        ));
    }
    Err(ServiceError::Backend {
        what: "asking ProxLB for its version".into(),
        detail: format!(
            "{shown} -m proxlb -v: {}; stdout {:?}; stderr {:?}",
            output.status,
            stdout.trim(),
            stderr.trim()
        ),
    })
}

/// The problem for an interpreter that cannot be started.
pub fn interpreter_missing(python: &Path, error: &std::io::Error, hint: &str) -> ServiceError {
    ServiceError::problem(
        ProblemKind::InterpreterMissing,
        format!(
            "the Python interpreter {} cannot be run: {error}",
            python.display()
        ),
        join_hint(
            "Set PROXLB_PYTHON to the interpreter ProxLB is installed in (the Debian package \
             uses /opt/venvs/proxlb/bin/python3).",
            hint,
        ),
    )
}

fn join_hint(hint: &str, extra: &str) -> String {
    if extra.is_empty() {
        hint.to_owned()
    } else {
        format!("{hint} {extra}")
    }
}

/// `2.3.0` from `ProxLB version: 2.3.0` (the first line of `-v`).
pub fn parse_version(stdout: &str) -> Option<String> {
    stdout.lines().find_map(|line| {
        line.trim()
            .strip_prefix("ProxLB version:")
            .map(str::trim)
            .filter(|version| !version.is_empty())
            .map(str::to_owned)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_version_line() {
        let out = "ProxLB version: 2.3.0\n(C) 2025 by Florian Paul Azim Hoberg <gyptazy>\n";
        assert_eq!(parse_version(out).as_deref(), Some("2.3.0"));
        assert_eq!(parse_version("usage: __main__.py"), None);
        assert_eq!(parse_version("ProxLB version: \n"), None);
    }
}
