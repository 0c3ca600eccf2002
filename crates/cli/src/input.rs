//! Where commands read from, and how policies are named on the command line.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use anyhow::{Context, bail};
use fengcun_policy::{Policy, presets};

/// A named input: a file, or standard input for `-`.
pub struct Input {
    pub name: String,
    pub reader: Box<dyn BufRead + Send>,
}

pub fn open(path: Option<&Path>) -> anyhow::Result<Input> {
    match path {
        None => Ok(stdin()),
        Some(p) if p.as_os_str() == "-" => Ok(stdin()),
        Some(p) => {
            if p.is_dir() {
                bail!("{}: is a directory, not a file", p.display());
            }
            let file = File::open(p).with_context(|| format!("cannot open {}", p.display()))?;
            Ok(Input {
                name: p.display().to_string(),
                reader: Box::new(BufReader::with_capacity(1 << 20, file)),
            })
        }
    }
}

fn stdin() -> Input {
    Input {
        name: "<stdin>".to_owned(),
        reader: Box::new(BufReader::with_capacity(1 << 20, io::stdin())),
    }
}

/// A shipped policy by name, or a policy file by path.
pub fn policy(name_or_path: &str) -> anyhow::Result<Policy> {
    if let Some(policy) = presets::get(name_or_path) {
        return Ok(policy.clone());
    }
    let path = Path::new(name_or_path);
    if !path.exists() {
        let names: Vec<&str> = presets::all().iter().map(|p| p.name()).collect();
        bail!(
            "no policy `{name_or_path}`: not a shipped policy ({}) and no such file",
            names.join(", ")
        );
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Policy::from_toml(&path.display().to_string(), &text)?)
}
