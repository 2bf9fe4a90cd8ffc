//! Writing the backup an apply makes before it deletes (see [`crate::backup`]): into
//! `--backup-dir DIR`, else `$XDG_STATE_HOME/ramstate/backups/<account>/` (or
//! `~/.local/state/ramstate/backups/<account>/`), one file per run named by its UTC time.
//! Written atomically (a temporary file renamed into place), the file readable by its
//! owner only (0600), the directories it creates too (0700). An apply that cannot write
//! it does not start. Where it went is a status line on stderr (`backup: PATH`).

use std::io::Write;
use std::path::{Path, PathBuf};

use miette::{Result, miette};

use crate::model::Inventory;
use crate::plan::Plan;
use crate::settings::Settings;

/// Where this account's backups go.
pub fn dir(settings: &Settings, flag: Option<&Path>, account_id: &str) -> Option<PathBuf> {
    match flag {
        Some(d) => Some(d.to_path_buf()),
        None => settings
            .state_dir
            .as_ref()
            .map(|s| s.join("backups").join(account_id)),
    }
}

/// Writes the backup of what `plan` deletes, if it deletes anything a backup holds, and
/// says where on stderr. An error when it cannot be written.
pub fn write_before_delete(
    settings: &Settings,
    flag: Option<&Path>,
    plan: &Plan,
    inventory: &Inventory,
) -> Result<Option<PathBuf>> {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("0 is valid");
    let written = now
        .format(&time::format_description::well_known::Rfc3339)
        .expect("a UTC time formats");
    let Some(text) = crate::backup::contents(plan, inventory, &written) else {
        return Ok(None);
    };
    let Some(dir) = dir(settings, flag, &inventory.account.id) else {
        return Err(miette!(
            help = "pass --backup-dir DIR, or set HOME or XDG_STATE_HOME",
            "refusing to apply: the plan deletes users, groups, roles or policies, and there is no directory to write their backup to"
        ));
    };
    let stamp: String = written
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let path = write_new(&dir, &stamp, &text).map_err(|e| {
        miette!(
            help = "pass --backup-dir DIR with a directory you can write to; nothing was changed",
            "refusing to apply: cannot write the backup of what the plan deletes to {}: {e}",
            dir.display()
        )
    })?;
    // A status line: `--quiet` silences it, as it does every line that is not a result.
    super::status::say(format_args!("backup: {}", path.display()));
    Ok(Some(path))
}

/// Writes `text` to `dir/STAMP.yaml` (or `STAMP-2.yaml`... when taken) through a
/// temporary file in the same directory.
fn write_new(dir: &Path, stamp: &str, text: &str) -> std::io::Result<PathBuf> {
    create_private_dir(dir)?;
    let tmp = dir.join(format!(".{stamp}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = private_file(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        drop(f);
        let mut n = 1;
        loop {
            let name = if n == 1 {
                format!("{stamp}.yaml")
            } else {
                format!("{stamp}-{n}.yaml")
            };
            let path = dir.join(name);
            if !path.exists() {
                std::fs::rename(&tmp, &path)?;
                return Ok(path);
            }
            n += 1;
        }
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}
