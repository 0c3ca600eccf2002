//! `ledger-bench [ENTRIES] [sm|international]`: prints [`fengcun_ledger::bench::bench`]'s report.
//! Run in release: `cargo run --release -p fengcun-ledger --example ledger-bench -- 10000000 sm`.

use fengcun_crypto::Suite;

fn main() {
    let mut args = std::env::args().skip(1);
    let entries = args
        .next()
        .map_or(Ok(1_000_000), |arg| arg.replace('_', "").parse::<u64>());
    let suites = match args.next().as_deref() {
        None => Ok(vec![Suite::Sm, Suite::International]),
        Some(text) => Suite::parse(text)
            .map(|suite| vec![suite])
            .ok_or(text.to_owned()),
    };
    let (Ok(entries), Ok(suites)) = (entries, suites) else {
        eprintln!("usage: ledger-bench [ENTRIES] [sm|international]");
        std::process::exit(2);
    };
    for suite in suites {
        println!("{}", fengcun_ledger::bench::bench(entries, suite));
    }
}
