//! Objects: save (create or update), fetch, get, delete, and batches of saves.

use http::Method;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use super::{parse_error, segment, unexpected, Access, Body, ParseClient};
use crate::object::SERVER_KEYS;
use crate::{Error, ParseObject};

/// How many requests one `/batch` call carries.
pub const BATCH_SIZE: usize = 50;

/// The method, path (below the server URL) and body that save `object`.
pub(crate) fn save_request(object: &ParseObject) -> Result<(Method, String, Value), Error> {
    if let Some(why) = object.unencodable() {
        return Err(Error::internal(why.to_owned()));
    }
    let class = segment("class name", object.class_name())?;
    let mut body = Map::new();
    match object.id() {
        None => {
            for (key, value) in object.iter() {
                if !SERVER_KEYS.contains(&key) {
                    body.insert(key.to_owned(), value.clone());
                }
            }
            Ok((
                Method::POST,
                format!("/classes/{class}"),
                Value::Object(body),
            ))
        }
        Some(id) => {
            for key in object.dirty_keys() {
                if SERVER_KEYS.contains(&key) || key == "objectId" {
                    continue;
                }
                let value = match object.get_raw(key) {
                    Some(value) => value.clone(),
                    None => json!({"__op": "Delete"}),
                };
                body.insert(key.to_owned(), value);
            }
            let id = segment("object id", id)?;
            Ok((
                Method::PUT,
                format!("/classes/{class}/{id}"),
                Value::Object(body),
            ))
        }
    }
}

impl ParseClient {
    /// Saves `object`: creates it (`POST /classes/<C>` with every field) when it has no
    /// `objectId`, else updates it (`PUT /classes/<C>/<id>` with only the fields
    /// [`dirty_keys`](ParseObject::dirty_keys) names: values set, operations such as
    /// `Increment`, and `Delete` for removed fields).
    ///
    /// What Parse Server answers (`objectId`, `createdAt`, `updatedAt`, the results of
    /// operations, fields a beforeSave trigger changed) is merged into `object`, which then
    /// counts as unchanged. An operation whose result Parse Server did not send back is
    /// dropped from the object (its value is unknown until [`fetch`](Self::fetch)); a
    /// relation operation becomes the relation.
    pub async fn save(&self, object: &mut ParseObject) -> Result<(), Error> {
        let (method, path, body) = save_request(object)?;
        let answer = self
            .send(method, &path, Body::Json(body), Access::Write)
            .await?;
        match answer {
            Value::Object(answer) => {
                object.saved(answer);
                Ok(())
            }
            other => Err(unexpected(&path, &other)),
        }
    }

    /// Reads `object` again from Parse Server (by its class and `objectId`), replacing every
    /// field and any unsaved change.
    pub async fn fetch(&self, object: &mut ParseObject) -> Result<(), Error> {
        let Some(id) = object.id() else {
            return Err(Error::internal(
                "cannot fetch an object without objectId (it was never saved)",
            ));
        };
        let fetched: ParseObject = self.query(object.class_name()).get(id).await?;
        *object = fetched;
        Ok(())
    }

    /// The object of class `class_name` with id `object_id`, decoded as `T` (by default a
    /// [`ParseObject`]); a missing object fails with Parse's code 101.
    pub async fn get<T: DeserializeOwned + 'static>(
        &self,
        class_name: &str,
        object_id: &str,
    ) -> Result<T, Error> {
        self.query(class_name).get(object_id).await
    }

    /// Deletes `object` (`DELETE /classes/<C>/<id>`).
    pub async fn delete(&self, object: &ParseObject) -> Result<(), Error> {
        let Some(id) = object.id() else {
            return Err(Error::internal(
                "cannot delete an object without objectId (it was never saved)",
            ));
        };
        let path = format!(
            "/classes/{}/{}",
            segment("class name", object.class_name())?,
            segment("object id", id)?
        );
        self.send(Method::DELETE, &path, Body::None, Access::Write)
            .await
            .map(drop)
    }

    /// Saves every object as [`save`](Self::save) does, through `/batch`, in requests of
    /// [`BATCH_SIZE`]: one result per object, in order, the saved object or why it was not
    /// saved (with Parse's code). Parse Server saves the objects of a batch one by one, not
    /// in a transaction, so some may be saved and others not.
    ///
    /// Fails as a whole only when the first request cannot be made or is refused (nothing
    /// was saved); a later request failing that way fails each of its objects.
    pub async fn save_all(
        &self,
        objects: Vec<ParseObject>,
    ) -> Result<Vec<Result<ParseObject, Error>>, Error> {
        let mut results: Vec<Result<ParseObject, Error>> = Vec::with_capacity(objects.len());
        let mut objects = objects.into_iter().peekable();
        let mut first = true;
        while objects.peek().is_some() {
            let chunk: Vec<ParseObject> = objects.by_ref().take(BATCH_SIZE).collect();
            let mut requests = Vec::new();
            // Each object, with the index of its request if it could make one.
            let mut slots: Vec<(ParseObject, Result<usize, Error>)> = Vec::new();
            for object in chunk {
                let slot = save_request(&object).map(|(method, path, body)| {
                    requests.push(json!({
                        "method": method.as_str(),
                        "path": format!("{}{path}", self.shared.mount_path),
                        "body": body,
                    }));
                    requests.len() - 1
                });
                slots.push((object, slot));
            }
            let mut answers = if requests.is_empty() {
                Vec::new()
            } else {
                let body = json!({ "requests": requests });
                match self
                    .send(Method::POST, "/batch", Body::Json(body), Access::Write)
                    .await
                {
                    Ok(Value::Array(answers)) => answers,
                    Ok(other) if first => return Err(unexpected("/batch", &other)),
                    Err(error) if first => return Err(error),
                    Ok(other) => {
                        let error = unexpected("/batch", &other);
                        results.extend(slots.into_iter().map(|_| Err(error.duplicate())));
                        continue;
                    }
                    Err(error) => {
                        results.extend(slots.into_iter().map(|_| Err(error.duplicate())));
                        continue;
                    }
                }
            };
            first = false;
            let mut answers: Vec<Option<Value>> = answers.drain(..).map(Some).collect();
            for (mut object, slot) in slots {
                let result = slot.and_then(|index| {
                    let answer = answers.get_mut(index).and_then(Option::take);
                    batch_item(&mut object, answer).map(|()| object)
                });
                results.push(result);
            }
        }
        Ok(results)
    }
}

/// Applies one item of a `/batch` answer to its object.
fn batch_item(object: &mut ParseObject, answer: Option<Value>) -> Result<(), Error> {
    let Some(Value::Object(mut answer)) = answer else {
        return Err(Error::internal(
            "Parse Server's /batch answer has no result for this object",
        ));
    };
    if let Some(Value::Object(success)) = answer.remove("success") {
        object.saved(success);
        return Ok(());
    }
    let error = answer.remove("error").unwrap_or(Value::Null);
    Err(
        parse_error(http::StatusCode::BAD_REQUEST, &error).unwrap_or_else(|| {
            Error::internal(format!(
                "unexpected item in Parse Server's /batch answer: {error}"
            ))
        }),
    )
}
