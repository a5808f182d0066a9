//! One file per step: its keys (`key`, called by `update` after the global keys) and its screen
//! (`draw`, called by `view` inside the step's frame).

pub mod apply;
pub mod clients;
pub mod credentials;
pub mod detect;
pub mod done;
pub mod options;
pub mod push;
pub mod restart;
pub mod review;
pub mod server;
