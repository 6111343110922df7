//! [`Host`] for [`ObjectHost`]: each hook of the API over the host's records, store and
//! catalog (the runs' execution is `worker.rs`).

use super::records::{
    failed, now, rfc3339, FileDoc, PlanDoc, Record, ResultsDoc, RunDoc, SessionDoc, UploadDoc,
    PLAN, RESULTS, RUN, SESSION, UPLOAD, UPLOAD_FILE,
};
use super::{engine, guard, refused, ObjectHost, Shared};
use crate::hooks::{
    Catalog, HookError, Host, NewPlan, Reading, RunInfo, RunState, SessionRecord, StoredPlan,
    StoredUpload,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use lms_bulk_upload::host::HostStore;
use lms_bulk_upload::{
    ContentKind, ContentRef, Group, ParseOptions, Password, Plan, Results, StoreRead,
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct CatalogReply {
    #[serde(default)]
    groups: Vec<CatalogGroup>,
    #[serde(default)]
    content: Vec<CatalogItem>,
}

#[derive(Deserialize)]
struct CatalogGroup {
    id: Value,
    name: String,
}

#[derive(Deserialize)]
struct CatalogItem {
    kind: String,
    id: Value,
    #[serde(default)]
    title: Option<String>,
}

fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Host for ObjectHost {
    fn admin_password_hash(&self, _email: &str) -> Result<Option<(String, String)>, HookError> {
        // The host checks passwords itself (verify_admin): no hash ever leaves it.
        Ok(None)
    }

    fn verify_admin(&self, email: &str, password: &Password) -> Result<Option<String>, HookError> {
        let reply = self
            .records
            .call("authenticate", vec![json!(email), json!(password.expose())])?;
        match reply {
            Value::Null | Value::Bool(false) => Ok(None),
            Value::String(s) if !s.is_empty() => Ok(Some(s)),
            other => Err(failed(
                "authenticate",
                format!(
                    "gave {}, not the administrator's email or null",
                    kind(&other)
                ),
            )),
        }
    }

    fn put_session(&self, s: &SessionRecord) -> Result<(), HookError> {
        let doc = SessionDoc {
            email: s.email.clone(),
            csrf_token: s.csrf_token.clone(),
            expires_at: s.expires_at,
        };
        self.records
            .put(SESSION, &hex(&s.digest), &doc, None)
            .map(drop)
    }

    fn session(&self, digest: &[u8; 32]) -> Result<Option<SessionRecord>, HookError> {
        let id = hex(digest);
        let Some(r) = self.records.get::<SessionDoc>(SESSION, &id)? else {
            return Ok(None);
        };
        if r.doc.expires_at <= now() {
            self.records.delete(SESSION, &id)?;
        }
        Ok(Some(SessionRecord {
            digest: *digest,
            email: r.doc.email,
            csrf_token: r.doc.csrf_token,
            expires_at: r.doc.expires_at,
        }))
    }

    fn delete_session(&self, digest: &[u8; 32]) -> Result<(), HookError> {
        self.records.delete(SESSION, &hex(digest))
    }

    fn create_upload(
        &self,
        owner: &str,
        filename: &str,
        bytes: &[u8],
    ) -> Result<String, HookError> {
        let id = format!("up_{}", self.records.next(UPLOAD)?);
        let file = FileDoc {
            base64: STANDARD.encode(bytes),
        };
        self.records
            .put(UPLOAD_FILE, &format!("{id}/1"), &file, None)?;
        let doc = UploadDoc {
            owner: owner.to_owned(),
            filename: filename.to_owned(),
            size: bytes.len() as u64,
            file_version: 1,
            assignments: BTreeMap::new(),
            sheet: None,
            encoding: None,
        };
        if !self.records.put(UPLOAD, &id, &doc, Some(0))? {
            return Err(failed(
                "put_record",
                format!("the upload {id} exists already"),
            ));
        }
        Ok(id)
    }

    fn upload(&self, id: &str) -> Result<Option<StoredUpload>, HookError> {
        let Some(record) = self.records.get::<UploadDoc>(UPLOAD, id)? else {
            return Ok(None);
        };
        let file_id = format!("{id}/{}", record.doc.file_version);
        let file = self
            .records
            .get::<FileDoc>(UPLOAD_FILE, &file_id)?
            .ok_or_else(|| {
                failed(
                    "get_record",
                    format!("the upload's file {file_id} is missing"),
                )
            })?;
        let bytes = STANDARD.decode(file.doc.base64.as_bytes()).map_err(|e| {
            failed(
                "get_record",
                format!("the upload's file is not base64: {e}"),
            )
        })?;
        let mut upload = stored_upload(id, record);
        upload.size = bytes.len() as u64;
        upload.bytes = bytes;
        Ok(Some(upload))
    }

    fn upload_info(&self, id: &str) -> Result<Option<StoredUpload>, HookError> {
        Ok(self
            .records
            .get::<UploadDoc>(UPLOAD, id)?
            .map(|record| stored_upload(id, record)))
    }

    fn update_upload(
        &self,
        id: &str,
        expected: u64,
        bytes: Option<&[u8]>,
        assignments: &BTreeMap<usize, Option<String>>,
        reading: &Reading,
    ) -> Result<bool, HookError> {
        let Some(Record { version, mut doc }) = self.records.get::<UploadDoc>(UPLOAD, id)? else {
            return Ok(false);
        };
        if version != expected {
            return Ok(false);
        }
        let old_file = doc.file_version;
        if let Some(bytes) = bytes {
            // The new bytes under a new name first: a reader sees the old file or the new,
            // never a record naming a file not yet written.
            doc.file_version = expected + 1;
            doc.size = bytes.len() as u64;
            let file = FileDoc {
                base64: STANDARD.encode(bytes),
            };
            self.records.put(
                UPLOAD_FILE,
                &format!("{id}/{}", doc.file_version),
                &file,
                None,
            )?;
        }
        doc.assignments = assignments.clone();
        doc.sheet = reading.sheet.clone();
        doc.encoding = reading.encoding.clone();
        let stored = self.records.put(UPLOAD, id, &doc, Some(expected))?;
        if bytes.is_some() {
            let stale = if stored { old_file } else { doc.file_version };
            self.records.delete(UPLOAD_FILE, &format!("{id}/{stale}"))?;
        }
        Ok(stored)
    }

    fn reserve_run_id(&self) -> Result<String, HookError> {
        Ok(format!("run_{}", self.records.next(RUN)?))
    }

    fn create_plan(&self, p: NewPlan<'_>) -> Result<String, HookError> {
        let id = format!("pl_{}", self.records.next(PLAN)?);
        let doc = PlanDoc {
            owner: p.owner.to_owned(),
            upload: p.upload.map(|(u, v)| (u.to_owned(), v)),
            undo_of_run: p.undo_of_run.map(str::to_owned),
            run_id: p.run_id.to_owned(),
            approved: false,
            settings: p.settings,
            excluded_lines: p.excluded_lines.iter().copied().collect(),
            created_at: rfc3339(now()),
            signed: p.plan.to_signed_json(&self.keys.plan),
        };
        if !self.records.put(PLAN, &id, &doc, Some(0))? {
            return Err(failed(
                "put_record",
                format!("the plan {id} exists already"),
            ));
        }
        // Just signed and stored: read back from memory, not verified again.
        self.keep_plan(&id, p.plan.clone());
        Ok(id)
    }

    fn plan(&self, id: &str) -> Result<Option<StoredPlan>, HookError> {
        let Some(Record { doc, .. }) = self.records.get::<PlanDoc>(PLAN, id)? else {
            return Ok(None);
        };
        let plan = self.verified(id, &doc)?;
        Ok(Some(StoredPlan {
            id: id.to_owned(),
            owner: doc.owner,
            plan,
            upload: doc.upload,
            undo_of_run: doc.undo_of_run,
            run_id: doc.run_id,
            approved: doc.approved,
            settings: doc.settings,
            excluded_lines: doc.excluded_lines,
            created_at: doc.created_at,
        }))
    }

    fn approve(
        &self,
        plan_id: &str,
        by: &str,
        default_password: Option<Password>,
    ) -> Result<RunInfo, HookError> {
        let Some(Record { version, mut doc }) = self.records.get::<PlanDoc>(PLAN, plan_id)? else {
            return Err(refused("not_found", "no such plan"));
        };
        let already = || {
            refused(
                "plan_already_approved",
                format!("this plan was approved already (run {})", doc.run_id),
            )
        };
        if doc.approved {
            return Err(already());
        }
        if let Some(undone) = &doc.undo_of_run {
            if self.unfinished_undo_of(Some(undone))?.is_some() {
                return Err(refused(
                    "undo_unfinished",
                    format!("an undo of {undone} is unfinished: let it finish first"),
                ));
            }
        }
        // The plan as stored and signed, verified again: what runs is never the request's.
        let plan = Plan::from_signed_json(&doc.signed, &self.keys.plan).map_err(engine)?;
        doc.approved = true;
        if !self.records.put(PLAN, plan_id, &doc, Some(version))? {
            return Err(refused(
                "plan_already_approved",
                "this plan was approved meanwhile",
            ));
        }
        let run_id = doc.run_id.clone();
        let run = RunDoc {
            plan_id: plan_id.to_owned(),
            uploader: by.to_owned(),
            undo_of: doc.undo_of_run.clone(),
            started_at: rfc3339(now()),
            finished_at: None,
            state: "queued".into(),
            done: 0,
            total: plan.rows().len() as u64,
            counts: None,
            undone_by: None,
            error: None,
            cancel: false,
            heartbeat: now(),
            sealed_password: default_password.map(|p| self.keys.seal(&run_id, &p)),
        };
        if !self.records.put(RUN, &run_id, &run, Some(0))? {
            return Err(HookError::Failed(format!(
                "{run_id} is recorded already: make the plan again"
            )));
        }
        self.enqueue(&run_id)?;
        Ok(self.info(&run_id, &run))
    }

    fn runs(&self, offset: u64, limit: u64) -> Result<(u64, Vec<RunInfo>), HookError> {
        let (total, runs) = self.records.list::<RunDoc>(RUN, offset, limit)?;
        Ok((total, runs.iter().map(|(id, r)| self.info(id, r)).collect()))
    }

    fn run(&self, id: &str) -> Result<Option<RunInfo>, HookError> {
        Ok(self
            .records
            .get::<RunDoc>(RUN, id)?
            .map(|r| self.info(id, &r.doc)))
    }

    fn cancel(&self, id: &str) -> Result<RunInfo, HookError> {
        let mut ended = false;
        let run = self.records.update::<RunDoc>(RUN, id, &mut |run| {
            ended = matches!(run.state.as_str(), "finished" | "cancelled");
            if !ended {
                run.cancel = true;
            }
            Ok(())
        })?;
        let Some(run) = run else {
            return Err(refused("not_found", "no such run"));
        };
        let info = self.info(id, &run);
        if ended || info.state == RunState::Interrupted {
            return Err(refused("run_not_running", "this run is not running"));
        }
        if let Some(flag) = guard(&self.live).get(id) {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(info)
    }

    fn results(&self, id: &str) -> Result<Option<Results>, HookError> {
        let Some(r) = self.records.get::<ResultsDoc>(RESULTS, id)? else {
            return Ok(None);
        };
        Results::from_signed_json(&r.doc.signed, &self.keys.plan)
            .map(Some)
            .map_err(engine)
    }

    fn plan_undo(
        &self,
        run_id: &str,
        delete_created_users: bool,
        uploader: &str,
        results_url: &str,
    ) -> Result<Plan, HookError> {
        let Some(run) = self.records.get::<RunDoc>(RUN, run_id)? else {
            return Err(refused("not_found", "no such run"));
        };
        if let Some(by) = &run.doc.undone_by {
            return Err(refused(
                "already_undone",
                format!("{run_id} was undone already (by {by})"),
            ));
        }
        if let Some((id, of)) = self.unfinished_undo_of(None)? {
            return Err(refused(
                "undo_unfinished",
                format!("{id} (the undo of {of}) is unfinished: let it finish first"),
            ));
        }
        let Some(results) = self.results(run_id)? else {
            return Err(refused(
                "run_unfinished",
                format!("{run_id} has not finished: it cannot be undone yet"),
            ));
        };
        let options = lms_bulk_upload::UndoOptions::new()
            .delete_created_users(delete_created_users)
            .results_url(results_url)
            .uploader_email(uploader)
            .declarations(&self.config.parse_options)
            .undone_creations(self.undone_creations()?);
        let mut store =
            HostStore::new(Shared(self.store.as_ref()), self.config.naming).map_err(engine)?;
        lms_bulk_upload::plan_undo(&results, &mut store, &options).map_err(engine)
    }

    fn with_store(&self, f: &mut dyn FnMut(&mut dyn StoreRead)) -> Result<(), HookError> {
        let mut store =
            HostStore::new(Shared(self.store.as_ref()), self.config.naming).map_err(engine)?;
        f(&mut store);
        Ok(())
    }

    fn catalog(&self) -> Result<Catalog, HookError> {
        let reply = self.records.call("catalog", Vec::new())?;
        let reply: CatalogReply = serde_json::from_value(self.config.naming.keys_in(reply))
            .map_err(|e| failed("catalog", format!("gave a reply that cannot be read: {e}")))?;
        let content = reply
            .content
            .into_iter()
            .filter_map(|c| {
                let kind = match c.kind.as_str() {
                    "course" => ContentKind::Course,
                    "collection" => ContentKind::Collection,
                    "campaign" => ContentKind::Campaign,
                    _ => return None,
                };
                let id = id_text(&c.id)?;
                let title = c
                    .title
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| id.clone());
                Some((ContentRef::new(kind, id), title))
            })
            .collect();
        let groups = reply
            .groups
            .into_iter()
            .filter_map(|g| {
                Some(Group {
                    id: id_text(&g.id)?,
                    name: g.name,
                })
            })
            .collect();
        Ok(Catalog { groups, content })
    }

    fn parse_options(&self) -> ParseOptions {
        self.config.parse_options.clone()
    }

    fn with_store_mut(
        &self,
        f: &mut dyn FnMut(&mut dyn lms_bulk_upload::Store),
    ) -> Result<bool, HookError> {
        // Sign-in links are served when the store keeps them: it can find one and use it up.
        let naming = self.config.naming;
        let keeps_links = ["find_invitation", "redeem_invitation"]
            .iter()
            .all(|m| self.store.has_method(&naming.name(m)));
        if !keeps_links {
            return Ok(false);
        }
        let mut store = HostStore::new(Shared(self.store.as_ref()), naming).map_err(engine)?;
        f(&mut store);
        Ok(true)
    }

    fn hash_params(&self) -> lms_bulk_upload::HashParams {
        self.hash_params
    }

    fn site_url(&self) -> String {
        self.config.site_url.trim_end_matches('/').to_owned()
    }
}

impl ObjectHost {
    /// An undo that has not ended (of `of`, or of any run): (its id, the run it undoes).
    fn unfinished_undo_of(&self, of: Option<&str>) -> Result<Option<(String, String)>, HookError> {
        Ok(self.all_runs()?.into_iter().find_map(|(id, run)| {
            let target = run.undo_of?;
            let open = !matches!(run.state.as_str(), "finished" | "cancelled");
            (open && of.is_none_or(|o| o == target)).then_some((id, target))
        }))
    }

    /// The users created by the runs undone so far: an undo never reactivates them.
    fn undone_creations(&self) -> Result<Vec<lms_bulk_upload::UserId>, HookError> {
        let mut users = Vec::new();
        for (id, run) in self.all_runs()? {
            if run.undone_by.is_none() {
                continue;
            }
            if let Some(results) = self.results(&id)? {
                users.extend(
                    results
                        .rows
                        .into_iter()
                        .filter(|r| r.status == lms_bulk_upload::Status::Created)
                        .filter_map(|r| r.user_id),
                );
            }
        }
        Ok(users)
    }
}

/// An upload's record as the API reads it (without its bytes).
fn stored_upload(id: &str, Record { version, doc }: Record<UploadDoc>) -> StoredUpload {
    StoredUpload {
        id: id.to_owned(),
        owner: doc.owner,
        filename: doc.filename,
        bytes: Vec::new(),
        size: doc.size,
        assignments: doc.assignments,
        reading: Reading {
            sheet: doc.sheet,
            encoding: doc.encoding,
        },
        version,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
