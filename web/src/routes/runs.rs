//! Runs: the history, one run, its progress as server-sent events, cancel, results (paged
//! and as CSV), undo.

use super::{json_body, offset, page_json, paging, plans, query, Ctx};
use crate::hooks::{Host, NewPlan, RunInfo};
use crate::http::{Body, Response};
use crate::problem::Problem;
use crate::{hook_problem, views};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

fn load(ctx: &Ctx<'_>, id: &str) -> Result<RunInfo, Problem> {
    ctx.api
        .host()
        .run(id)
        .map_err(hook_problem)?
        .ok_or_else(|| Problem::new("not_found", "no such run"))
}

pub(super) fn list(ctx: &Ctx<'_>) -> Result<Response, Problem> {
    let (page, per_page) = paging(ctx.req)?;
    let (total, runs) = ctx
        .api
        .host()
        .runs(offset(page, per_page) as u64, per_page)
        .map_err(hook_problem)?;
    let items = runs.iter().map(views::run_json).collect();
    Ok(page_json(page, per_page, total, items))
}

pub(super) fn view(ctx: &Ctx<'_>, id: &str) -> Result<Response, Problem> {
    Ok(Response::json(200, &views::run_json(&load(ctx, id)?)))
}

/// How often the stream looks at the run.
const TICK: Duration = Duration::from_millis(250);
/// A comment every this many ticks keeps proxies from closing a quiet stream.
const KEEPALIVE_TICKS: u32 = 60;
/// The stream ends after this many ticks (4 hours); `EventSource` reconnects by itself.
const MAX_TICKS: u32 = 4 * 3600 * 4;

struct Events {
    host: Arc<dyn Host>,
    id: String,
    last: String,
    ended: bool,
    ticks: u32,
    first: bool,
}

impl Iterator for Events {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        if self.ended {
            return None;
        }
        loop {
            if !self.first {
                std::thread::sleep(TICK);
                self.ticks += 1;
            }
            self.first = false;
            if self.ticks >= MAX_TICKS {
                self.ended = true;
                return None;
            }
            let run = match self.host.run(&self.id) {
                Ok(Some(run)) => run,
                _ => {
                    self.ended = true;
                    return None;
                }
            };
            let data = views::run_json(&run).to_string();
            if run.state.ended() {
                self.ended = true;
                let mut out = String::new();
                if data != self.last {
                    out.push_str(&format!("event: progress\ndata: {data}\n\n"));
                }
                out.push_str(&format!("event: end\ndata: {data}\n\n"));
                return Some(out.into_bytes());
            }
            if data != self.last {
                self.last = data.clone();
                return Some(format!("event: progress\ndata: {data}\n\n").into_bytes());
            }
            if self.ticks.is_multiple_of(KEEPALIVE_TICKS) {
                return Some(b": keepalive\n\n".to_vec());
            }
        }
    }
}

pub(super) fn events(ctx: &Ctx<'_>, id: &str) -> Result<Response, Problem> {
    let run = load(ctx, id)?;
    let stream = Events {
        host: ctx.api.host.clone(),
        id: run.id,
        last: String::new(),
        ended: false,
        ticks: 0,
        first: true,
    };
    Ok(Response {
        status: 200,
        headers: vec![
            ("content-type".into(), "text/event-stream".into()),
            ("cache-control".into(), "no-store".into()),
            ("x-accel-buffering".into(), "no".into()),
        ],
        body: Body::Stream(Box::new(stream)),
    })
}

pub(super) fn cancel(ctx: &Ctx<'_>, id: &str) -> Result<Response, Problem> {
    load(ctx, id)?;
    let run = ctx.api.host().cancel(id).map_err(hook_problem)?;
    Ok(Response::json(202, &views::run_json(&run)))
}

fn results_of(ctx: &Ctx<'_>, id: &str) -> Result<lms_bulk_upload::Results, Problem> {
    load(ctx, id)?;
    ctx.api
        .host()
        .results(id)
        .map_err(hook_problem)?
        .ok_or_else(|| Problem::new("run_unfinished", "this run has no results yet"))
}

pub(super) fn results(ctx: &Ctx<'_>, id: &str) -> Result<Response, Problem> {
    let (page, per_page) = paging(ctx.req)?;
    let status = query(ctx.req, "status").filter(|s| !s.is_empty());
    if let Some(s) = &status {
        if s.len() > 32 || !s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(Problem::new(
                "invalid_request",
                "status is a row status such as failed",
            ));
        }
    }
    let results = results_of(ctx, id)?;
    let matching: Vec<_> = results
        .rows
        .iter()
        .filter(|r| status.as_deref().is_none_or(|s| r.status.as_str() == s))
        .collect();
    let items = matching
        .iter()
        .skip(offset(page, per_page))
        .take(per_page as usize)
        .map(|r| views::result_row_json(r))
        .collect();
    Ok(page_json(page, per_page, matching.len() as u64, items))
}

pub(super) fn results_csv(ctx: &Ctx<'_>, id: &str) -> Result<Response, Problem> {
    let results = results_of(ctx, id)?;
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(results.to_csv().as_bytes());
    let name: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    Ok(
        Response::new(200, "text/csv; charset=utf-8", bytes).with_header(
            "content-disposition",
            format!("attachment; filename=\"results-{name}.csv\""),
        ),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UndoRequest {
    #[serde(default)]
    delete_created_users: bool,
}

pub(super) fn undo(ctx: &Ctx<'_>, id: &str) -> Result<Response, Problem> {
    let body: UndoRequest = json_body(ctx.req)?;
    let run = load(ctx, id)?;
    let host = ctx.api.host();
    let run_id = host.reserve_run_id().map_err(hook_problem)?;
    let results_url = format!("{}/runs/{run_id}/results", host.site_url());
    let plan = std::sync::Arc::new(
        host.plan_undo(
            &run.id,
            body.delete_created_users,
            &ctx.session.email,
            &results_url,
        )
        .map_err(hook_problem)?,
    );
    plans::store(
        ctx.api,
        NewPlan {
            plan: &plan,
            owner: &ctx.session.email,
            upload: None,
            undo_of_run: Some(&run.id),
            run_id: &run_id,
            settings: json!({"delete_created_users": body.delete_created_users}),
            excluded_lines: &BTreeSet::new(),
        },
        None,
    )
}
