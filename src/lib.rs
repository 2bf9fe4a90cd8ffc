//! ramstate keeps an Alibaba Cloud account's RAM in a declared state.
//!
//! ```text
//!  desired.yaml ──parse──▶ DesiredState ─┐
//!                                         ├─diff──▶ Plan ──graph──▶ ApplyGraph ──execute──▶ ApplyReport
//!  live account ──fetch──▶ Inventory ────┘          │                                       │
//!    (signed RPC calls)                             └──render──▶ text / json / markdown ◀────┘
//! ```
//!
//! Pure core: [`config`] (parse), [`plan`] (diff, restore), [`graph`], [`readiness`], [`trust`],
//! [`backup`] (what a deletion writes down first), [`api::sign`].
//! I/O at the edges: [`api`] (client), [`inventory`] (fetch), [`apply`] (execute),
//! [`emulator`], [`commands`]. Flags and environment are resolved once, into
//! [`settings::Settings`], at the edge.

pub mod api;
pub mod apply;
pub mod backup;
pub mod cli;
pub mod commands;
pub mod config;
pub mod explain;
pub mod export;
pub mod graph;
pub mod inventory;
pub mod model;
pub mod plan;
pub mod readiness;
pub mod render;
pub mod settings;
pub mod trust;

pub use commands::run;
/// The emulator, its own crate (`crates/ramstate-emulator`): it shares the model, never
/// the planner.
pub use ramstate_emulator as emulator;
