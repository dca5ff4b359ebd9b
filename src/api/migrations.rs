//! Server functions of the migration history: the Migrations view's pages and the dashboard's
//! recent-migrations feed. Live updates come through the live channel's `migrations` topic.

use leptos::prelude::*;
use plb_domain::migrations::{MigrationFilter, MigrationPage, MigrationRecord};

use crate::error::ApiError;

/// How many moves the dashboard's feed shows.
pub const FEED_SIZE: usize = 8;

/// One page of the migration history, newest start first (anyone signed in).
#[server(prefix = "/sfn", endpoint = "migrations")]
pub async fn get_migrations(filter: MigrationFilter) -> Result<MigrationPage, ApiError> {
    crate::api::auth::require_user()?;
    Ok(crate::api::app_state()?.migrations.list(&filter).await?)
}

/// The newest moves, newest start first (anyone signed in).
#[server(prefix = "/sfn", endpoint = "recent_migrations")]
pub async fn get_recent_migrations() -> Result<Vec<MigrationRecord>, ApiError> {
    crate::api::auth::require_user()?;
    let size = u32::try_from(FEED_SIZE).unwrap_or(u32::MAX);
    Ok(crate::api::app_state()?.migrations.recent(size).await?)
}
