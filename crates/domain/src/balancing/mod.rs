//! The Balancing view's own logic, shared by the server render, the REST API and the browser:
//! the settings form and the keys a save writes ([`settings`]), whether "run now" may start and
//! how ([`run_now`]), the plan as the view shows it ([`plan_view`]) and how a candidate plan
//! differs from today's ([`whatif`]).

pub mod plan_view;
pub mod run_now;
pub mod settings;
pub mod whatif;
pub mod wire;
