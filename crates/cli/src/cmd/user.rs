//! `fengcun user enrol-person`: makes a person's account on the server's database, with its master
//! key. A person's account shows that person's sealed records, so the HTTP API does not let an
//! administrator make one; whoever runs the installation enrols a person after checking their
//! identity card, and the audit entry names who did (docs/disclosure.md).

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::cmd::serve;

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Enrol a person (role `person`, requester kind `person`) after checking their identity card; the
    /// password is read from the first line of standard input.
    EnrolPerson(EnrolArgs),
}

#[derive(Debug, clap::Args)]
pub struct EnrolArgs {
    /// The account's username.
    #[arg(long)]
    username: String,
    /// The person's identity number, as on the card.
    #[arg(long, value_name = "NUMBER")]
    id_number: String,
    /// The person's name, as on the card: certificates are issued in it.
    #[arg(long)]
    name: String,
    /// Who checked the identity card (named in the audit entry as `enrolment:<by>`).
    #[arg(long, value_name = "NAME")]
    by: String,
    /// `sqlite://PATH` (default `sqlite://fengcun.sqlite`) or `postgres://…`.
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// Configuration file (TOML), as for `serve`.
    #[arg(long, value_name = "FILE", env = "FENGCUN_CONFIG")]
    config: Option<PathBuf>,
}

pub fn run(command: UserCommand) -> anyhow::Result<ExitCode> {
    match command {
        UserCommand::EnrolPerson(args) => enrol(args),
    }
}

fn enrol(args: EnrolArgs) -> anyhow::Result<ExitCode> {
    let config = serve::config(args.config.as_deref(), None, args.database.clone())?;
    // The password from standard input, never the command line (which other users can see).
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let by = args.by.trim();
    anyhow::ensure!(!by.is_empty(), "--by: who checked the identity card");
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let keys = fengcun_store::Keys::new(config.master_key()?);
        let store = fengcun_store::open(&config.database, keys).await?;
        let enrolment = fengcun_server::enrol::Enrolment {
            username: args.username,
            password,
            id_number: args.id_number,
            name: args.name,
        };
        let user = fengcun_server::enrol::enrol_person(
            &store,
            &enrolment,
            &format!("enrolment:{by}"),
            jiff::Timestamp::now(),
        )
        .await?;
        println!("enrolled {} (person)", user.username);
        anyhow::Ok(ExitCode::SUCCESS)
    })
}
