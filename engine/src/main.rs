//! The `picket` binary (a placeholder until the command line lands).

fn main() {}
