"""What the scripts share: command-line parsing, resolving a run's configuration, launching
the simulation, presets, settings recorded with a run, the start-up banner."""
