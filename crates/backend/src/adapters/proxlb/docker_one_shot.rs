//! "Ask real ProxLB" with the Docker backend: one ProxLB run in a one-off container beside the
//! daemon's (`PROXLB_CONTAINER`), because ProxLB is installed in the image, not on ProxLB Web's
//! machine.
//!
//! - The run container copies what the daemon's container runs with: its image (by ID, so the
//!   same ProxLB even when the tag moved), entrypoint, user, working directory, environment,
//!   network mode, extra hosts and DNS, dropped capabilities and security options, and its
//!   mounts read-only (a CA bundle may be mounted) except the one of the daemon's
//!   `proxlb.yaml`; not its privileges, resources or restart policy. Its command is `-c <copy> -d -j`: the
//!   image's entrypoint is ProxLB (`ENTRYPOINT ["/opt/venv/bin/python", "/app/proxlb/main.py"]`
//!   upstream, `python -m proxlb` in deploy/proxlb/Dockerfile); an image that starts ProxLB
//!   through `CMD` only gets the leading, non-ProxLB part of that command as its entrypoint.
//! - The copy of the configuration is uploaded into the created (not yet started) container as
//!   a tar entry, mode 0600, in a directory of its own (0700); Docker gives both to the
//!   container's user (`copyUIDGID`, as `docker cp -a`), so ProxLB can read it and nobody else.
//!   It never touches a disk of ProxLB Web's, and it is gone when the container is removed.
//! - Output is read separately per stream through the logs endpoint (driver `json-file`, so it
//!   can be read whatever the daemon's default driver is), after the container has exited.
//! - The container is labelled [`ASK_LABEL`] and the daemon's name; every new run first removes
//!   leftovers of earlier runs for the same daemon (ProxLB Web stopped mid-run), and every run
//!   ends with a forced removal, whatever ended it.

use std::collections::HashMap;
use std::path::PathBuf;

use bollard::errors::Error as DockerError;
use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, HostConfig, HostConfigLogConfig, Mount,
    MountPoint, MountType,
};
use bollard::query_parameters::{
    CreateContainerOptions, KillContainerOptions, ListContainersOptions, LogsOptions,
    RemoveContainerOptions, UploadToContainerOptions, WaitContainerOptions,
};
use bollard::Docker;
use futures::StreamExt;

use super::docker::{classify, DockerBackend};
use crate::ports::{OneShotOutput, OneShotRun, OneShotRunner, OneShotSignal, ServiceError};

/// The label every run container carries (value `1`).
pub const ASK_LABEL: &str = "proxlb-web.ask";
/// The label with the daemon container's name, so leftovers are removed per daemon.
pub const DAEMON_LABEL: &str = "proxlb-web.ask.daemon";
/// Run containers are named this plus 16 random hex digits.
pub const NAME_PREFIX: &str = "proxlb-web-ask-";
/// The directory (at `/`) that holds the copy inside the run container.
const CONFIG_DIR: &str = "proxlb-web-ask";
/// ProxLB's default configuration path (`proxlb/utils/cli_parser.py` at 2.3.0).
const DEFAULT_CONFIG: &str = "/etc/proxlb/proxlb.yaml";
/// ProxLB's own options that end the program part of a `CMD` (and whose effects on the output
/// must not carry over to the run).
const PROXLB_FLAGS: [&str; 10] = [
    "-c",
    "--config",
    "-d",
    "--dry-run",
    "-j",
    "--json",
    "-b",
    "--best-node",
    "-v",
    "--version",
];

/// Runs ProxLB once in a container made after the daemon's.
pub struct DockerOneShot {
    backend: DockerBackend,
    /// The run container's definition, without its labels.
    body: ContainerCreateBody,
    describe: String,
}

impl DockerOneShot {
    /// The runner for the daemon container inspected as `daemon`, or why ProxLB cannot be run
    /// beside it.
    pub fn new(
        backend: DockerBackend,
        daemon: &ContainerInspectResponse,
    ) -> Result<Self, ServiceError> {
        let body = run_body(backend.container(), daemon)?;
        let describe = format!(
            "a one-off container of {}'s image {}",
            backend.container(),
            daemon
                .config
                .as_ref()
                .and_then(|c| c.image.as_deref())
                .unwrap_or("?")
        );
        Ok(Self {
            backend,
            body,
            describe,
        })
    }

    /// Removes the run containers of earlier asks for this daemon (a crash or a stop of
    /// ProxLB Web in the middle of a run left them).
    async fn remove_leftovers(&self, docker: &Docker) -> Result<(), ServiceError> {
        let filters = HashMap::from([(
            "label".to_owned(),
            vec![
                format!("{ASK_LABEL}=1"),
                format!("{DAEMON_LABEL}={}", self.backend.container()),
            ],
        )]);
        let leftovers = docker
            .list_containers(Some(ListContainersOptions {
                all: true,
                filters: Some(filters),
                ..Default::default()
            }))
            .await
            .map_err(|e| self.backend.error("listing earlier ProxLB runs", e))?;
        for leftover in leftovers {
            let Some(id) = leftover.id else { continue };
            tracing::info!(container = %id, names = ?leftover.names, "removing an earlier ask's container");
            remove(docker, &id).await;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl OneShotRunner for DockerOneShot {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    async fn start(&self, config: String) -> Result<Box<dyn OneShotRun>, ServiceError> {
        let docker = self.backend.client().await?;
        self.remove_leftovers(&docker).await?;
        let name = format!("{NAME_PREFIX}{}", random_hex()?);
        let mut body = self.body.clone();
        body.labels = Some(HashMap::from([
            (ASK_LABEL.to_owned(), "1".to_owned()),
            (DAEMON_LABEL.to_owned(), self.backend.container().to_owned()),
        ]));
        docker
            .create_container(
                Some(CreateContainerOptions {
                    name: Some(name.clone()),
                    ..Default::default()
                }),
                body,
            )
            .await
            .map_err(|e| self.backend.error("creating a container for ProxLB", e))?;
        let run = DockerRun {
            docker,
            host: self.backend.host().to_owned(),
            name,
        };
        if let Err(error) = run.upload_and_start(&config).await {
            run.remove().await;
            return Err(error);
        }
        tracing::info!(container = %run.name, "asking real ProxLB in a one-off container (-d -j)");
        Ok(Box::new(run))
    }
}

/// One run container.
struct DockerRun {
    docker: Docker,
    host: String,
    name: String,
}

impl DockerRun {
    fn error(&self, what: &str, e: DockerError) -> ServiceError {
        classify(&self.host, &self.name, what, e)
    }

    async fn upload_and_start(&self, config: &str) -> Result<(), ServiceError> {
        let tar = config_tar(config).map_err(|e| ServiceError::Backend {
            what: "packing ProxLB's configuration".to_owned(),
            detail: e.to_string(),
        })?;
        self.docker
            .upload_to_container(
                &self.name,
                Some(UploadToContainerOptions {
                    path: "/".to_owned(),
                    // Owned by the container's user (resolved in its /etc/passwd), as `docker cp -a`.
                    copy_uidgid: Some("true".to_owned()),
                    ..Default::default()
                }),
                bollard::body_full(tar.into()),
            )
            .await
            .map_err(|e| self.error("copying ProxLB's configuration into its container", e))?;
        self.docker
            .start_container(&self.name, None)
            .await
            .map_err(|e| self.error("starting ProxLB's container", e))
    }

    /// Everything the container printed, per stream.
    async fn output(&self) -> Result<(String, String), ServiceError> {
        let mut logs = self.docker.logs(
            &self.name,
            Some(LogsOptions {
                stdout: true,
                stderr: true,
                tail: "all".to_owned(),
                ..Default::default()
            }),
        );
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        while let Some(frame) = logs.next().await {
            match frame.map_err(|e| self.error("reading ProxLB's output", e))? {
                bollard::container::LogOutput::StdErr { message } => {
                    stderr.extend_from_slice(&message)
                }
                bollard::container::LogOutput::StdOut { message }
                | bollard::container::LogOutput::Console { message } => {
                    stdout.extend_from_slice(&message)
                }
                bollard::container::LogOutput::StdIn { .. } => {}
            }
        }
        Ok((
            String::from_utf8_lossy(&stdout).into_owned(),
            String::from_utf8_lossy(&stderr).into_owned(),
        ))
    }
}

#[async_trait::async_trait]
impl OneShotRun for DockerRun {
    fn name(&self) -> &str {
        &self.name
    }

    fn config_path(&self) -> PathBuf {
        config_path()
    }

    async fn wait(&self) -> Result<OneShotOutput, ServiceError> {
        let mut wait = self.docker.wait_container(
            &self.name,
            Some(WaitContainerOptions {
                condition: "not-running".to_owned(),
            }),
        );
        let code = match wait.next().await {
            Some(Ok(response)) => response.status_code,
            // bollard reports a non-zero exit code as an error.
            Some(Err(DockerError::DockerContainerWaitError { code, .. })) => code,
            Some(Err(e)) => return Err(self.error("waiting for ProxLB's container", e)),
            None => {
                return Err(ServiceError::Backend {
                    what: "waiting for ProxLB's container".to_owned(),
                    detail: "the wait ended without an exit code".to_owned(),
                })
            }
        };
        let (stdout, stderr) = self.output().await?;
        Ok(OneShotOutput {
            code: exit_code(code),
            stdout,
            stderr,
        })
    }

    async fn signal(&self, signal: OneShotSignal) {
        let signal = match signal {
            OneShotSignal::Interrupt => "SIGINT",
            OneShotSignal::Kill => "SIGKILL",
        };
        let options = KillContainerOptions {
            signal: signal.to_owned(),
        };
        // A container that has already exited answers 409: nothing to do.
        if let Err(error) = self.docker.kill_container(&self.name, Some(options)).await {
            tracing::debug!(container = %self.name, signal, %error, "signalling the asked ProxLB failed");
        }
    }

    async fn remove(&self) {
        remove(&self.docker, &self.name).await;
    }
}

/// Removes a container and its anonymous volumes, running or not; a missing one is fine.
async fn remove(docker: &Docker, name: &str) {
    let options = RemoveContainerOptions {
        force: true,
        v: true,
        ..Default::default()
    };
    match docker.remove_container(name, Some(options)).await {
        Ok(()) => {}
        Err(DockerError::DockerResponseServerError {
            status_code: 404, ..
        }) => {}
        Err(error) => {
            tracing::warn!(container = %name, %error, "removing the asked ProxLB's container failed")
        }
    }
}

/// Where the copy is inside the run container.
fn config_path() -> PathBuf {
    PathBuf::from(format!("/{CONFIG_DIR}/proxlb.yaml"))
}

/// 16 random hex digits for a container name.
fn random_hex() -> Result<String, ServiceError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| ServiceError::Backend {
        what: "naming ProxLB's container".to_owned(),
        detail: e.to_string(),
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Docker's exit code as ProxLB's: `None` for a death by signal (128 + the signal's number).
fn exit_code(code: i64) -> Option<i32> {
    i32::try_from(code)
        .ok()
        .filter(|c| !(129..=192).contains(c))
}

/// The tar archive Docker extracts at `/`: the directory (0700) and the copy (0600).
fn config_tar(config: &str) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut dir = tar::Header::new_gnu();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(0o700);
    dir.set_size(0);
    dir.set_mtime(0);
    tar.append_data(&mut dir, format!("{CONFIG_DIR}/"), std::io::empty())?;
    let mut file = tar::Header::new_gnu();
    file.set_entry_type(tar::EntryType::Regular);
    file.set_mode(0o600);
    file.set_size(config.len() as u64);
    file.set_mtime(0);
    tar.append_data(
        &mut file,
        format!("{CONFIG_DIR}/proxlb.yaml"),
        config.as_bytes(),
    )?;
    tar.into_inner()
}

/// Whether `arg` is one of ProxLB's own options.
fn is_proxlb_flag(arg: &str) -> bool {
    PROXLB_FLAGS.contains(&arg) || arg.starts_with("--config=")
}

/// The run's entrypoint and command: the daemon's entrypoint (or, without one, the part of its
/// command before ProxLB's first option) and `-c <config> -d -j`.
fn command(
    entrypoint: &[String],
    cmd: &[String],
    config: &str,
) -> Result<(Vec<String>, Vec<String>), String> {
    let program: Vec<String> = if entrypoint.is_empty() {
        cmd.iter()
            .take_while(|a| !is_proxlb_flag(a))
            .cloned()
            .collect()
    } else {
        entrypoint.to_vec()
    };
    if program.is_empty() {
        return Err("its container has neither an entrypoint nor a command".to_owned());
    }
    let args = ["-c", config, "-d", "-j"].map(str::to_owned).to_vec();
    Ok((program, args))
}

/// The configuration file the daemon reads: its `-c`/`--config`, else ProxLB's default.
fn daemon_config(argv: &[String]) -> String {
    let mut path = DEFAULT_CONFIG.to_owned();
    let mut args = argv.iter();
    while let Some(arg) = args.next() {
        if arg == "-c" || arg == "--config" {
            if let Some(value) = args.next() {
                path.clone_from(value);
            }
        } else if let Some(value) = arg.strip_prefix("--config=") {
            value.clone_into(&mut path);
        }
    }
    path
}

/// The daemon's mounts, read-only, without the one of its configuration file and without
/// tmpfs (an upload into a tmpfs target would be hidden by it).
fn mounts(points: &[MountPoint], daemon_config: &str) -> Vec<Mount> {
    points
        .iter()
        .filter_map(|point| {
            let target = point.destination.clone()?;
            if target.trim_end_matches('/') == daemon_config {
                return None;
            }
            let (typ, source) = match point.typ.as_deref() {
                Some("bind") => (MountType::BIND, point.source.clone()?),
                Some("volume") => (MountType::VOLUME, point.name.clone()?),
                _ => return None,
            };
            Some(Mount {
                target: Some(target),
                source: Some(source),
                typ: Some(typ),
                read_only: Some(true),
                ..Default::default()
            })
        })
        .collect()
}

/// The run container's definition (without labels), made after the daemon's container.
fn run_body(
    daemon_name: &str,
    daemon: &ContainerInspectResponse,
) -> Result<ContainerCreateBody, ServiceError> {
    let refused = |why: &str| {
        ServiceError::Refused(format!(
            "ProxLB cannot be run once beside container {daemon_name}: {why}"
        ))
    };
    let config = daemon
        .config
        .as_ref()
        .ok_or_else(|| refused("Docker did not describe its configuration"))?;
    let image = daemon
        .image
        .clone()
        .or_else(|| config.image.clone())
        .ok_or_else(|| refused("Docker did not name its image"))?;
    let entrypoint = config.entrypoint.clone().unwrap_or_default();
    let cmd = config.cmd.clone().unwrap_or_default();
    let (entrypoint_run, cmd_run) =
        command(&entrypoint, &cmd, &config_path().to_string_lossy()).map_err(|e| refused(&e))?;
    let argv: Vec<String> = entrypoint.iter().chain(&cmd).cloned().collect();
    let daemon_host = daemon.host_config.clone().unwrap_or_default();
    let host_config = HostConfig {
        network_mode: daemon_host.network_mode,
        extra_hosts: daemon_host.extra_hosts,
        dns: daemon_host.dns,
        dns_options: daemon_host.dns_options,
        dns_search: daemon_host.dns_search,
        // As locked down as the daemon (a read-only root is left out: the copy is uploaded
        // into the container's own layer, which Docker refuses for a read-only root).
        cap_drop: daemon_host.cap_drop,
        security_opt: daemon_host.security_opt,
        mounts: Some(mounts(
            daemon.mounts.as_deref().unwrap_or_default(),
            &daemon_config(&argv),
        )),
        // Readable through the API whatever the engine's default driver is.
        log_config: Some(HostConfigLogConfig {
            typ: Some("json-file".to_owned()),
            config: None,
        }),
        auto_remove: Some(false),
        ..Default::default()
    };
    Ok(ContainerCreateBody {
        image: Some(image),
        entrypoint: Some(entrypoint_run),
        cmd: Some(cmd_run),
        env: config.env.clone(),
        user: config.user.clone(),
        working_dir: config.working_dir.clone().filter(|d| !d.is_empty()),
        tty: Some(false),
        attach_stdin: Some(false),
        open_stdin: Some(false),
        host_config: Some(host_config),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::io::Read;

    use bollard::models::ContainerConfig;

    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_run_keeps_the_entrypoint_and_replaces_the_command() {
        let (entrypoint, cmd) = command(
            &strings(&["/opt/venv/bin/python", "/app/proxlb/main.py"]),
            &strings(&["-c", "/etc/proxlb/other.yaml", "-b"]),
            "/proxlb-web-ask/proxlb.yaml",
        )
        .unwrap();
        assert_eq!(entrypoint, ["/opt/venv/bin/python", "/app/proxlb/main.py"]);
        assert_eq!(cmd, ["-c", "/proxlb-web-ask/proxlb.yaml", "-d", "-j"]);
    }

    #[test]
    fn an_image_without_entrypoint_keeps_the_program_part_of_its_command() {
        let (entrypoint, cmd) = command(
            &[],
            &strings(&["python3", "-m", "proxlb", "--config=/x.yaml", "-d"]),
            "/c.yaml",
        )
        .unwrap();
        assert_eq!(entrypoint, ["python3", "-m", "proxlb"]);
        assert_eq!(cmd, ["-c", "/c.yaml", "-d", "-j"]);
        assert!(command(&[], &strings(&["-c", "/x.yaml"]), "/c.yaml").is_err());
        assert!(command(&[], &[], "/c.yaml").is_err());
    }

    #[test]
    fn the_daemon_s_config_path_is_its_last_config_option_or_the_default() {
        assert_eq!(
            daemon_config(&strings(&["python", "-m", "proxlb"])),
            DEFAULT_CONFIG
        );
        assert_eq!(
            daemon_config(&strings(&["proxlb", "-c", "/a.yaml", "--config=/b.yaml"])),
            "/b.yaml"
        );
        assert_eq!(
            daemon_config(&strings(&["proxlb", "--config", "/a.yaml"])),
            "/a.yaml"
        );
    }

    fn point(typ: &str, source: &str, name: Option<&str>, destination: &str) -> MountPoint {
        MountPoint {
            typ: Some(typ.to_owned()),
            source: Some(source.to_owned()),
            name: name.map(str::to_owned),
            destination: Some(destination.to_owned()),
            rw: Some(true),
            ..Default::default()
        }
    }

    #[test]
    fn mounts_are_read_only_and_leave_out_the_daemon_s_config() {
        let points = [
            point("bind", "/srv/proxlb.yaml", None, "/etc/proxlb/proxlb.yaml"),
            point("bind", "/srv/ca.pem", None, "/etc/proxlb/ca.pem"),
            point(
                "volume",
                "/var/lib/docker/volumes/certs/_data",
                Some("certs"),
                "/certs",
            ),
            point("tmpfs", "", None, "/tmp"),
        ];
        let mounts = mounts(&points, "/etc/proxlb/proxlb.yaml");
        let seen: Vec<_> = mounts
            .iter()
            .map(|m| {
                (
                    m.typ,
                    m.source.as_deref().unwrap(),
                    m.target.as_deref().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (Some(MountType::BIND), "/srv/ca.pem", "/etc/proxlb/ca.pem"),
                (Some(MountType::VOLUME), "certs", "/certs"),
            ]
        );
        assert!(mounts.iter().all(|m| m.read_only == Some(true)));
    }

    #[test]
    fn the_run_is_made_after_the_daemon_without_its_config_mount() {
        let daemon = ContainerInspectResponse {
            image: Some("sha256:abc".into()),
            config: Some(ContainerConfig {
                image: Some("ghcr.io/credativ/proxlb:v2.3.0".into()),
                entrypoint: Some(strings(&["/opt/venv/bin/python", "-m", "proxlb"])),
                cmd: Some(strings(&["-c", "/conf/proxlb.yaml"])),
                env: Some(strings(&[
                    "PYTHONUNBUFFERED=1",
                    "REQUESTS_CA_BUNDLE=/conf/ca.pem",
                ])),
                user: Some("plb".into()),
                working_dir: Some(String::new()),
                ..Default::default()
            }),
            host_config: Some(HostConfig {
                network_mode: Some("host".into()),
                extra_hosts: Some(strings(&["pve1:10.0.0.1"])),
                dns: Some(strings(&["10.0.0.53"])),
                privileged: Some(true),
                cap_drop: Some(strings(&["ALL"])),
                security_opt: Some(strings(&["no-new-privileges:true"])),
                readonly_rootfs: Some(true),
                binds: Some(strings(&["/srv/conf:/conf"])),
                ..Default::default()
            }),
            mounts: Some(vec![
                point("bind", "/srv/conf/proxlb.yaml", None, "/conf/proxlb.yaml"),
                point("bind", "/srv/conf/ca.pem", None, "/conf/ca.pem"),
            ]),
            ..Default::default()
        };
        let body = run_body("proxlb", &daemon).unwrap();
        assert_eq!(body.image.as_deref(), Some("sha256:abc"));
        assert_eq!(
            body.cmd.unwrap(),
            ["-c", "/proxlb-web-ask/proxlb.yaml", "-d", "-j"]
        );
        assert_eq!(body.user.as_deref(), Some("plb"));
        assert_eq!(body.working_dir, None);
        assert_eq!(body.env, daemon.config.as_ref().unwrap().env);
        let host = body.host_config.unwrap();
        assert_eq!(host.network_mode.as_deref(), Some("host"));
        assert_eq!(host.extra_hosts.unwrap(), ["pve1:10.0.0.1"]);
        assert_eq!(host.dns.unwrap(), ["10.0.0.53"]);
        assert_eq!(host.privileged, None);
        assert_eq!(host.cap_drop.unwrap(), ["ALL"]);
        assert_eq!(host.security_opt.unwrap(), ["no-new-privileges:true"]);
        assert_eq!(host.readonly_rootfs, None);
        assert_eq!(host.binds, None);
        let mounts = host.mounts.unwrap();
        assert_eq!(mounts.len(), 1);
        assert_eq!(mounts[0].target.as_deref(), Some("/conf/ca.pem"));
        assert_eq!(host.auto_remove, Some(false));

        let bare = ContainerInspectResponse::default();
        assert!(matches!(
            run_body("proxlb", &bare),
            Err(ServiceError::Refused(m)) if m.contains("proxlb")
        ));
    }

    #[test]
    fn the_copy_is_private_in_a_private_directory() {
        let tar = config_tar("service:\n  daemon: false\n").unwrap();
        let mut archive = tar::Archive::new(tar.as_slice());
        let mut entries = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            entries.push((
                entry.path().unwrap().to_string_lossy().into_owned(),
                entry.header().mode().unwrap(),
                text,
            ));
        }
        assert_eq!(
            entries,
            [
                ("proxlb-web-ask/".to_owned(), 0o700, String::new()),
                (
                    "proxlb-web-ask/proxlb.yaml".to_owned(),
                    0o600,
                    "service:\n  daemon: false\n".to_owned()
                ),
            ]
        );
        assert_eq!(config_path(), PathBuf::from("/proxlb-web-ask/proxlb.yaml"));
    }

    #[test]
    fn a_death_by_signal_has_no_exit_code() {
        assert_eq!(exit_code(0), Some(0));
        assert_eq!(exit_code(2), Some(2));
        assert_eq!(exit_code(137), None);
        assert_eq!(exit_code(130), None);
        assert_eq!(random_hex().unwrap().len(), 16);
    }
}
