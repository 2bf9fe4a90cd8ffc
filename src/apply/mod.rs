//! Apply: walk the plan's graph and make each step's API call.

pub mod executor;
