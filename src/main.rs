//! The `prodsim` binary: parse the command line, run it, map the outcome
//! to an exit code (0 ok, 1 failure, 2 bad input or usage, 3 a failed
//! champion/challenger gate).

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = prodsim::cli::Cli::parse();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut err = std::io::stderr();
    let result = match cli.command {
        Some(command) => prodsim::cli::run(command, &mut out, &mut err),
        None => prodsim::cli::run_default(&mut out, &mut err),
    };
    let flushed = std::io::Write::flush(&mut out);
    match result.and(flushed.map_err(Into::into)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("prodsim: {e}");
            let code = e
                .downcast_ref::<prodsim::error::Error>()
                .map_or(1, prodsim::error::Error::exit_code);
            ExitCode::from(code)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
