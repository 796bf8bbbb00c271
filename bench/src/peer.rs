//! The peer: the same saga written the ordinary way with Temporal's Python SDK
//! (`bench/python/peer_saga.py`), run on the same server as ours, in the same run.

use std::path::Path;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Output {
    per_second: f64,
}

/// Runs `count` of the peer's orders at `concurrency` against the server at `address` with the
/// Python of the stack's venv (beside the `temporal` CLI); returns orders per second.
pub async fn measure(temporal_cli: &Path, address: &str, count: usize, concurrency: usize) -> anyhow::Result<f64> {
    let python = temporal_cli.with_file_name("python");
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join("peer_saga.py");
    let out = tokio::process::Command::new(&python)
        .arg(&script)
        .args([
            "--address",
            address,
            "--count",
            &count.to_string(),
            "--concurrency",
            &concurrency.to_string(),
        ])
        .output()
        .await?;
    anyhow::ensure!(
        out.status.success(),
        "{} {} failed (is the bench's Python SDK installed? `make bench` installs bench/python/requirements.txt): {}",
        python.display(),
        script.display(),
        String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or_default()
    );
    let last = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    Ok(serde_json::from_str::<Output>(&last)?.per_second)
}
