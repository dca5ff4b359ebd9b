//! Server function of the Logs view: one page of ProxLB's log history. The live part comes
//! through the live channel's `logs` topic, resumed from the page's `live_cursor`, so history
//! and live join without a gap or a duplicate.

use leptos::prelude::*;
use plb_domain::logs::{LogPage, LogQuery};

use crate::error::ApiError;

/// The entries matching `query`, oldest first (anyone signed in). Without paging bounds it is
/// the newest page; `before_seq` pages back.
#[server(prefix = "/sfn", endpoint = "logs")]
pub async fn get_log_page(query: LogQuery) -> Result<LogPage, ApiError> {
    crate::api::auth::require_user()?;
    Ok(crate::api::app_state()?.proxlb.logs.query(&query))
}
