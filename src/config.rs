//! One `Config`: defaults, then `<data dir>/hotline.toml`, then environment
//! (`HOTLINE_DATA_DIR`, `HOTLINE_LISTEN`), then flags — later wins.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub const DEFAULT_LISTEN: &str = "0.0.0.0:8080";
pub const DEFAULT_DATA_DIR: &str = "./hotline-data";
pub const CONFIG_FILE: &str = "hotline.toml";

/// Settings the file may hold.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub max_attachment_mb: Option<u64>,
    pub open_browser: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub dev_clock: bool,
    pub max_attachment_mb: u64,
    pub open_browser: bool,
}

impl Config {
    /// Resolves flags/env (`data_dir`, `listen`: already merged by clap)
    /// with the file in the data dir and the defaults.
    pub fn resolve(
        data_dir: Option<PathBuf>,
        listen: Option<String>,
        dev_clock: bool,
        open_browser: bool,
    ) -> Result<Config, String> {
        let data_dir = data_dir.unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let file_path = data_dir.join(CONFIG_FILE);
        let file: FileConfig = match std::fs::read_to_string(&file_path) {
            Ok(s) => toml::from_str(&s).map_err(|e| format!("{}: {e}", file_path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileConfig::default(),
            Err(e) => return Err(format!("{}: {e}", file_path.display())),
        };
        let listen_s = listen
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.into());
        let listen = listen_s.parse().map_err(|_| {
            format!("listen address “{listen_s}” is not ADDR:PORT (e.g. 0.0.0.0:8080)")
        })?;
        let max_attachment_mb = file.max_attachment_mb.unwrap_or(20);
        if !(1..=1024).contains(&max_attachment_mb) {
            return Err("max_attachment_mb must be 1–1024".into());
        }
        Ok(Config {
            data_dir,
            listen,
            dev_clock,
            max_attachment_mb,
            open_browser: open_browser && file.open_browser.unwrap_or(true),
        })
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("hotline.redb")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_and_validation() {
        let dir = std::env::temp_dir().join(format!("hotline-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let c = Config::resolve(Some(dir.clone()), None, false, false).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        std::fs::write(
            dir.join(CONFIG_FILE),
            "listen = \"127.0.0.1:9000\"\nmax_attachment_mb = 5\n",
        )
        .unwrap();
        let c = Config::resolve(Some(dir.clone()), None, false, false).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(c.max_attachment_mb, 5);
        let c = Config::resolve(
            Some(dir.clone()),
            Some("127.0.0.1:9100".into()),
            false,
            false,
        )
        .unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9100");
        assert!(Config::resolve(Some(dir.clone()), Some("nope".into()), false, false).is_err());
        std::fs::write(dir.join(CONFIG_FILE), "bogus = 1\n").unwrap();
        assert!(Config::resolve(Some(dir.clone()), None, false, false).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
