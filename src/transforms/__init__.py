"""Pure pandas transforms: frames in, frames out. No I/O, no Dagster."""
