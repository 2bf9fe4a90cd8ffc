//! Domain types shared by the desired state, the inventory and the emulator's seed.
//!
//! They live in the `ramstate-model` crate, which the emulator depends on too; this
//! module re-exports them so `crate::model::X` names them everywhere in ramstate.

pub use ramstate_model::*;
