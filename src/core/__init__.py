"""Project-wide plumbing: paths, settings from the environment, the project's own errors."""
