//! docs/cli.md must mention every subcommand and every long option, so it cannot drift.

use clap::CommandFactory;

#[test]
fn cli_reference_covers_every_command_and_option() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/cli.md")).unwrap();
    let cli = ev::cli::Cli::command();
    let mut missing = Vec::new();
    for arg in cli.get_arguments() {
        if let Some(long) = arg.get_long()
            && !doc.contains(&format!("--{long}"))
        {
            missing.push(format!("global --{long}"));
        }
    }
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        let heading = format!("\n## ev {name}\n");
        let Some(start) = doc.find(&heading) else {
            missing.push(format!("section \"## ev {name}\""));
            continue;
        };
        // The section runs to the next second-level heading.
        let body = &doc[start + heading.len()..];
        let section = &body[..body.find("\n## ").unwrap_or(body.len())];
        for arg in sub.get_arguments().filter(|a| !a.is_global_set()) {
            if let Some(long) = arg.get_long()
                && !section.contains(&format!("--{long}"))
            {
                missing.push(format!("ev {name} --{long}"));
            }
        }
    }
    assert!(missing.is_empty(), "docs/cli.md lacks: {missing:?}");
    for code in ["| 0 ", "| 1 ", "| 2 ", "| 3 ", "| 4 ", "| 5 ", "| 130 "] {
        assert!(
            doc.contains(code),
            "docs/cli.md lacks exit code row {code:?}"
        );
    }
}
