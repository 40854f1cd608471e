//! Prometheus metrics of `picket serve`.
