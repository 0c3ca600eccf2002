//! `fengcun judgment extract | redact`: criminal judgments in, record facts or redacted text out
//! (docs/judgments.md). The reading itself is in `fengcun-judgment`; this is files and flags.

use std::fs::File;
use std::io::{self, BufRead, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use fengcun_domain::Catalogue;
use fengcun_judgment::{extract_lines, redact};
use serde_json::{Map, Value};

use crate::input;

#[derive(Debug, clap::Subcommand)]
pub enum JudgmentCommand {
    /// One record-facts line per convicted person, read from the operative part (判决如下).
    Extract(ExtractArgs),
    /// Redact names and identifiers for publication (SPC 2016 rules).
    Redact(RedactArgs),
}

/// Where the judgments come from.
#[derive(Debug, clap::Args)]
pub struct Source {
    /// Read JSON lines and take the judgment text from this field (e.g. `fd`); without it the
    /// whole input is one plain-text judgment.
    #[arg(long, value_name = "F")]
    text_field: Option<String>,
    /// With --text-field: the field holding the document id (e.g. `text_id`); default: line number.
    #[arg(long, value_name = "F", requires = "text_field")]
    id_field: Option<String>,
    /// For a plain-text judgment: its document id; default: the file name without extension.
    #[arg(long, value_name = "ID", conflicts_with = "text_field")]
    id: Option<String>,
    /// A judgment file; `-` or nothing for standard input.
    file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    #[command(flatten)]
    source: Source,
    /// Write corporate defendants (被告单位) as JSON lines to this file instead of standard error.
    #[arg(long, value_name = "FILE")]
    corporate: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct RedactArgs {
    #[command(flatten)]
    source: Source,
    /// For a plain-text judgment: write the replacements (JSON lines) to this file instead of
    /// standard error.
    #[arg(long, value_name = "FILE")]
    replacements: Option<PathBuf>,
}

pub fn run(command: JudgmentCommand) -> anyhow::Result<ExitCode> {
    match command {
        JudgmentCommand::Extract(args) => extract(args),
        JudgmentCommand::Redact(args) => redact_cmd(args),
    }
}

/// One judgment of the input: its id and text, or why its line could not be read.
struct Document {
    id: String,
    text: String,
    /// The whole JSON line, when the input is JSON lines.
    json: bool,
}

/// Calls `each` for every judgment; a line that is not a JSON object with the text field is
/// reported on stderr and counted. Returns the number of such lines.
fn for_each_document(
    source: &Source,
    mut each: impl FnMut(Document) -> anyhow::Result<()>,
) -> anyhow::Result<usize> {
    let mut input = input::open(source.file.as_deref())?;
    let Some(field) = source.text_field.as_deref() else {
        let mut text = String::new();
        input
            .reader
            .read_to_string(&mut text)
            .with_context(|| format!("cannot read {}", input.name))?;
        let id = source
            .id
            .clone()
            .unwrap_or_else(|| default_id(source.file.as_deref()));
        each(Document {
            id,
            text,
            json: false,
        })?;
        return Ok(0);
    };
    let mut bad = 0usize;
    let mut line = String::new();
    let mut line_no = 0usize;
    loop {
        line.clear();
        if input.reader.read_line(&mut line)? == 0 {
            break;
        }
        line_no += 1;
        if line.trim().is_empty() {
            continue;
        }
        match document_of(&line, field, source.id_field.as_deref(), line_no) {
            Ok(document) => each(document)?,
            Err(reason) => {
                bad += 1;
                eprintln!("{}:{line_no}: {reason}", input.name);
            }
        }
    }
    Ok(bad)
}

fn document_of(
    line: &str,
    field: &str,
    id_field: Option<&str>,
    line_no: usize,
) -> Result<Document, String> {
    let value: Map<String, Value> =
        serde_json::from_str(line).map_err(|e| format!("not a JSON object: {e}"))?;
    let text = value
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("no string field `{field}`"))?
        .to_owned();
    let id = match id_field {
        None => line_no.to_string(),
        Some(name) => match value.get(name) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(format!("no id field `{name}`")),
        },
    };
    Ok(Document {
        id,
        text,
        json: true,
    })
}

fn default_id(file: Option<&Path>) -> String {
    file.filter(|p| p.as_os_str() != "-")
        .and_then(Path::file_stem)
        .map_or_else(|| "stdin".to_owned(), |s| s.to_string_lossy().into_owned())
}

fn create(path: &Path) -> anyhow::Result<Box<dyn Write>> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(Box::new(BufWriter::new(file)))
}

fn extract(args: ExtractArgs) -> anyhow::Result<ExitCode> {
    let catalogue = Catalogue::builtin();
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    let mut corporate: Box<dyn Write> = match &args.corporate {
        Some(path) => create(path)?,
        None => Box::new(io::stderr()),
    };
    let to_stderr = args.corporate.is_none();
    let (mut documents, mut persons, mut failures) = (0usize, 0usize, 0usize);
    let bad = for_each_document(&args.source, |document| {
        documents += 1;
        let written = extract_lines(&document.id, &document.text, catalogue);
        for line in &written.records {
            writeln!(out, "{line}")?;
        }
        persons += written.records.len();
        for line in &written.corporate {
            if to_stderr {
                writeln!(corporate, "被告单位 {line}")?;
            } else {
                writeln!(corporate, "{line}")?;
            }
        }
        for failure in &written.failures {
            eprintln!("fengcun judgment extract: {failure}");
        }
        failures += written.failures.len();
        Ok(())
    })?;
    out.flush()?;
    corporate.flush()?;
    eprintln!(
        "fengcun judgment extract: {documents} 份文书，{persons} 名被告人写出，{failures} 项未能写出"
    );
    Ok(if failures + bad > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn redact_cmd(args: RedactArgs) -> anyhow::Result<ExitCode> {
    let catalogue = Catalogue::builtin();
    if args.replacements.is_some() && args.source.text_field.is_some() {
        bail!("--replacements is for plain-text input; JSON lines carry their replacements");
    }
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    let mut side: Box<dyn Write> = match &args.replacements {
        Some(path) => create(path)?,
        None => Box::new(io::stderr()),
    };
    let text_field = args.source.text_field.clone().unwrap_or_default();
    let id_field = args
        .source
        .id_field
        .clone()
        .unwrap_or_else(|| "id".to_owned());
    let bad = for_each_document(&args.source, |document| {
        let redacted = redact(&document.text, catalogue);
        if document.json {
            // Only the id and the redacted field are written: other fields of the input line
            // (a fact summary, say) would carry the names and numbers unredacted.
            let mut line = Map::new();
            line.insert(id_field.clone(), Value::String(document.id));
            line.insert(text_field.clone(), Value::String(redacted.text));
            line.insert(
                "replacements".to_owned(),
                serde_json::to_value(&redacted.replacements)?,
            );
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        } else {
            out.write_all(redacted.text.as_bytes())?;
            for replacement in &redacted.replacements {
                serde_json::to_writer(&mut side, replacement)?;
                side.write_all(b"\n")?;
            }
        }
        Ok(())
    })?;
    out.flush()?;
    side.flush()?;
    Ok(if bad > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
