//! The file triggers (class `@File`): beforeSave, afterSave, beforeDelete, afterDelete.

use super::Body;
use crate::request::BadRequest;
use crate::types::File;
use crate::{Headers, Trigger, User};

/// A file trigger call: a file is being uploaded or deleted through Parse Server's
/// `/files` endpoint.
///
/// The body carries the file's name, url and size, never its data, and a webhook cannot
/// rename or replace the file. An error from beforeSave refuses the upload (the client gets
/// code 130), from beforeDelete the delete (code 153). From afterSave the client is told
/// the upload failed **but the file stays stored** (and unreferenced); from afterDelete
/// the file is already gone.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FileRequest {
    /// Which trigger: [`Trigger::BeforeSave`], [`Trigger::AfterSave`],
    /// [`Trigger::BeforeDelete`] or [`Trigger::AfterDelete`].
    pub trigger: Trigger,
    /// The file: before saving, the name the client chose and no url; afterwards the
    /// stored name (prefixed by Parse Server) and its url.
    pub file: File,
    /// The size in bytes of an upload (`None` for deletes).
    pub file_size: Option<u64>,
    /// Whether the client used the master key.
    pub master: bool,
    /// Whether the client used the read-only master key.
    pub is_read_only: bool,
    /// The calling user, when the client sent a valid session token.
    pub user: Option<User>,
    /// The client's installation id; `"cloud"` for calls with the master key.
    pub installation_id: Option<String>,
    /// The headers of the client's request (secret-bearing; see [`Headers`]).
    pub headers: Headers,
    /// The client's IP address, as Parse Server saw it.
    pub ip: Option<String>,
    /// The server's Parse client, behind `parse()`.
    pub(crate) parse: Option<crate::ParseClient>,
}

pub(super) fn decode_file(
    body: Body<'_>,
    _: &str,
    trigger: Trigger,
) -> Result<FileRequest, BadRequest> {
    let file = body
        .file
        .ok_or_else(|| BadRequest::new(format!("the file {trigger} call has no `file`")))?;
    Ok(FileRequest {
        parse: None,
        trigger,
        file,
        file_size: body.file_size,
        master: body.master.unwrap_or(false),
        is_read_only: body.is_read_only.unwrap_or(false),
        user: body.user,
        installation_id: body.installation_id,
        headers: body.headers.unwrap_or_default(),
        ip: body.ip,
    })
}
