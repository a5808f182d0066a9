//! One file per step: its keys (`key`, called by `update` after the global keys) and its screen
//! (`draw`, called by `view` inside the step's frame). Access Server has its own detection,
//! review and apply (`access_*`); the other steps serve both targets.

pub mod access_apply;
pub mod access_detect;
pub mod access_review;
pub mod apply;
pub mod choose;
pub mod clients;
pub mod credentials;
pub mod detect;
pub mod done;
pub mod options;
pub mod push;
pub mod restart;
pub mod review;
pub mod server;
