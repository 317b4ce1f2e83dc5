"""The command line's subcommands that are more than a call to a stage: one module each."""
