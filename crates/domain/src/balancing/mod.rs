//! The Balancing view's own logic, shared by the server render, the REST API and the browser:
//! the settings form and the keys a save writes ([`settings`]), whether "run now" may start and
//! how ([`run_now`]), and what the endpoints answer ([`answer`]: the plan, one guest, a what-if,
//! built from [`crate::proxlb::explanation`]; [`wire`]: settings, candidates, saves, runs).

pub mod answer;
pub mod run_now;
pub mod settings;
pub mod wire;
