//! One `Config`: defaults, then `<data dir>/hotline.toml`, then environment
//! (`HOTLINE_DATA_DIR`, `HOTLINE_LISTEN`), then flags — later wins.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub const DEFAULT_LISTEN: &str = "0.0.0.0:8080";
pub const DEFAULT_DATA_DIR: &str = "./hotline-data";
pub const CONFIG_FILE: &str = "hotline.toml";

/// Where the data lives when neither a flag, the environment nor a
/// shortcut names a folder: `./hotline-data` on Linux (the installed
/// service passes `/var/lib/hotline`); on Windows `%ProgramData%\Hotline`
/// when the program was installed under Program Files, otherwise a
/// `hotline-data` folder beside the exe (portable: unzip and double-click).
pub fn default_data_dir() -> PathBuf {
    if cfg!(windows) {
        let var = |k: &str| std::env::var_os(k).map(PathBuf::from);
        let program_files: Vec<PathBuf> = ["ProgramFiles", "ProgramFiles(x86)", "ProgramW6432"]
            .iter()
            .filter_map(|k| var(k))
            .collect();
        windows_data_dir(
            std::env::current_exe().ok().as_deref(),
            &program_files,
            var("ProgramData").as_deref(),
        )
    } else {
        PathBuf::from(DEFAULT_DATA_DIR)
    }
}

/// The Windows rule of [`default_data_dir`], pure so that it is tested
/// everywhere. Windows paths compare without regard to case.
pub fn windows_data_dir(
    exe: Option<&std::path::Path>,
    program_files: &[PathBuf],
    program_data: Option<&std::path::Path>,
) -> PathBuf {
    let Some(exe) = exe else {
        return PathBuf::from(DEFAULT_DATA_DIR);
    };
    let norm = |p: &std::path::Path| {
        let s = p.to_string_lossy().replace('/', "\\").to_lowercase();
        if s.ends_with('\\') { s } else { s + "\\" }
    };
    let exe_s = norm(exe);
    let installed = program_files
        .iter()
        .any(|pf| !pf.as_os_str().is_empty() && exe_s.starts_with(&norm(pf)));
    match (installed, program_data) {
        (true, Some(pd)) => join_windows(pd, "Hotline"),
        _ => {
            // The folder of the exe: everything before its last separator.
            let s = exe.to_string_lossy();
            match s.rfind(['\\', '/']) {
                Some(i) => join_windows(std::path::Path::new(&s[..i]), "hotline-data"),
                None => PathBuf::from(DEFAULT_DATA_DIR),
            }
        }
    }
}

/// `dir\name` with Windows' separator (a Linux `Path::join` would use `/`).
fn join_windows(dir: &std::path::Path, name: &str) -> PathBuf {
    let d = dir.to_string_lossy();
    let d = d.trim_end_matches(['\\', '/']);
    PathBuf::from(format!("{d}\\{name}"))
}

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
        let data_dir = data_dir.unwrap_or_else(default_data_dir);
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
    fn windows_default_data_dir() {
        let pf = [
            PathBuf::from(r"C:\Program Files"),
            PathBuf::from(r"C:\Program Files (x86)"),
        ];
        let pd = PathBuf::from(r"C:\ProgramData");
        let d = |exe: &str| windows_data_dir(Some(std::path::Path::new(exe)), &pf, Some(&pd));
        // Installed by the MSI: data in ProgramData, whatever the case.
        assert_eq!(
            d(r"C:\Program Files\Hotline\hotline.exe"),
            PathBuf::from(r"C:\ProgramData\Hotline")
        );
        assert_eq!(
            d(r"c:\program files\HOTLINE\hotline.exe"),
            PathBuf::from(r"C:\ProgramData\Hotline")
        );
        assert_eq!(
            d(r"C:\Program Files (x86)\Hotline\hotline.exe"),
            PathBuf::from(r"C:\ProgramData\Hotline")
        );
        // Portable: beside the exe. "Program Files Extra" is not under "Program Files".
        assert_eq!(
            d(r"D:\热线\hotline.exe"),
            PathBuf::from(r"D:\热线\hotline-data")
        );
        assert_eq!(
            d(r"C:\Program Files Extra\hotline.exe"),
            PathBuf::from(r"C:\Program Files Extra\hotline-data")
        );
        assert_eq!(d(r"E:\hotline.exe"), PathBuf::from(r"E:\hotline-data"));
        // No ProgramData variable: fall back to portable.
        assert_eq!(
            windows_data_dir(
                Some(std::path::Path::new(
                    r"C:\Program Files\Hotline\hotline.exe"
                )),
                &pf,
                None
            ),
            PathBuf::from(r"C:\Program Files\Hotline\hotline-data")
        );
        assert_eq!(
            windows_data_dir(None, &pf, Some(&pd)),
            PathBuf::from(DEFAULT_DATA_DIR)
        );
        if !cfg!(windows) {
            assert_eq!(default_data_dir(), PathBuf::from(DEFAULT_DATA_DIR));
        }
    }

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
