//! Queries: a builder of Parse's REST `where` and its options, and the calls that run it.

use std::fmt;
use std::future::Future;

use http::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::{push_query_value, query_value, segment, unexpected, Access, Body, ParseClient};
use crate::fields::Fields;
use crate::types::{GeoPoint, Pointer};
use crate::Error;

/// Above this many bytes of percent-encoded `where`, a query is sent as
/// `POST /classes/<C>` with `"_method": "GET"`, so that no URL grows too long for a proxy.
pub(crate) const LONG_WHERE: usize = 2048;

/// How many objects one request of [`Query::find_all`] and [`Query::each`] reads.
pub const PAGE_SIZE: u64 = 100;

/// Key names for [`Query::include`], [`Query::keys`] and [`Query::exclude_keys`]: one name
/// (`"player"`, `"player.team"`), or several (`["score", "player"]`, a `Vec`).
pub trait IntoKeys {
    /// The names.
    fn into_keys(self) -> Vec<String>;
}

impl IntoKeys for &str {
    fn into_keys(self) -> Vec<String> {
        vec![self.to_owned()]
    }
}

impl IntoKeys for String {
    fn into_keys(self) -> Vec<String> {
        vec![self]
    }
}

impl<S: Into<String>> IntoKeys for Vec<S> {
    fn into_keys(self) -> Vec<String> {
        self.into_iter().map(Into::into).collect()
    }
}

impl<S: Into<String>, const N: usize> IntoKeys for [S; N] {
    fn into_keys(self) -> Vec<String> {
        self.into_iter().map(Into::into).collect()
    }
}

impl<S: Into<String> + Clone> IntoKeys for &[S] {
    fn into_keys(self) -> Vec<String> {
        self.iter().cloned().map(Into::into).collect()
    }
}

/// A query of one class: constraints and options, then a terminal call ([`find`](Self::find),
/// [`first`](Self::first), [`get`](Self::get), [`count`](Self::count),
/// [`find_all`](Self::find_all), [`each`](Self::each)).
///
/// Every method takes and returns the query. Constraints on one key are merged:
/// `greater_than("score", 10).less_than("score", 20)` asks for
/// `{"score": {"$gt": 10, "$lt": 20}}`; a second constraint of the same operator on a key
/// replaces the first. Values are anything `Serialize` (numbers, strings,
/// [`Date`](crate::types::Date), [`Pointer`], ...); a value that cannot be encoded makes
/// the terminal call fail.
///
/// Results are decoded as `T` (by default [`ParseObject`](crate::ParseObject)); each
/// result gets its `className` first, unless it has one, so that objects can be saved
/// again (a struct decoding results ignores it, unless it denies unknown fields).
#[derive(Clone)]
pub struct Query {
    client: ParseClient,
    class_name: String,
    r#where: Map<String, Value>,
    order: Vec<String>,
    limit: Option<u64>,
    skip: Option<u64>,
    include: Vec<String>,
    keys: Vec<String>,
    exclude_keys: Vec<String>,
    /// The first value that could not be encoded.
    error: Option<String>,
}

impl fmt::Debug for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Query")
            .field("class_name", &self.class_name)
            .field("where", &self.r#where)
            .field("order", &self.order)
            .field("limit", &self.limit)
            .field("skip", &self.skip)
            .field("include", &self.include)
            .field("keys", &self.keys)
            .field("exclude_keys", &self.exclude_keys)
            .finish_non_exhaustive()
    }
}

/// Whether `value` is a map of query operators (`{"$gt": 1}`), not a value to equal.
fn is_constraint_map(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|map| !map.is_empty() && map.keys().all(|k| k.starts_with('$')))
}

impl Query {
    pub(crate) fn new(client: ParseClient, class_name: String) -> Self {
        Query {
            client,
            class_name,
            r#where: Map::new(),
            order: Vec::new(),
            limit: None,
            skip: None,
            include: Vec::new(),
            keys: Vec::new(),
            exclude_keys: Vec::new(),
            error: None,
        }
    }

    /// The class queried.
    pub fn class_name(&self) -> &str {
        &self.class_name
    }

    /// The `where` as it will be sent.
    pub fn where_clause(&self) -> &Map<String, Value> {
        &self.r#where
    }

    fn encode(&mut self, key: &str, value: impl Serialize) -> Option<Value> {
        match serde_json::to_value(value) {
            Ok(value) => Some(value),
            Err(error) => {
                self.error.get_or_insert_with(|| {
                    format!("a value for `{key}` in a query cannot be encoded as JSON: {error}")
                });
                None
            }
        }
    }

    /// Adds `operator: value` to the constraints on `key`, keeping the others.
    fn constrain(mut self, key: &str, operator: &str, value: impl Serialize) -> Self {
        if let Some(value) = self.encode(key, value) {
            self.add_operator(key, operator, value);
        }
        self
    }

    fn add_operator(&mut self, key: &str, operator: &str, value: Value) {
        let mut constraints = match self.r#where.remove(key) {
            Some(Value::Object(map))
                if !map.is_empty() && map.keys().all(|k| k.starts_with('$')) =>
            {
                map
            }
            // An equality given before: kept, as `$eq`.
            Some(previous) => Map::from_iter([("$eq".to_owned(), previous)]),
            None => Map::new(),
        };
        constraints.insert(operator.to_owned(), value);
        self.r#where
            .insert(key.to_owned(), Value::Object(constraints));
    }

    /// `key` equals `value` (for an array field: contains it; for a relation: holds the
    /// pointer).
    pub fn equal_to(mut self, key: &str, value: impl Serialize) -> Self {
        let Some(value) = self.encode(key, value) else {
            return self;
        };
        match self.r#where.get(key) {
            Some(existing) if is_constraint_map(existing) => self.add_operator(key, "$eq", value),
            _ if is_constraint_map(&value) => {
                // Written as `$eq`, so that it is not read as operators.
                self.r#where.remove(key);
                self.add_operator(key, "$eq", value);
            }
            _ => {
                self.r#where.insert(key.to_owned(), value);
            }
        }
        self
    }

    /// `key` does not equal `value` (`$ne`).
    pub fn not_equal_to(self, key: &str, value: impl Serialize) -> Self {
        self.constrain(key, "$ne", value)
    }

    /// `key` is less than `value` (`$lt`).
    pub fn less_than(self, key: &str, value: impl Serialize) -> Self {
        self.constrain(key, "$lt", value)
    }

    /// `key` is less than or equal to `value` (`$lte`).
    pub fn less_than_or_equal_to(self, key: &str, value: impl Serialize) -> Self {
        self.constrain(key, "$lte", value)
    }

    /// `key` is greater than `value` (`$gt`).
    pub fn greater_than(self, key: &str, value: impl Serialize) -> Self {
        self.constrain(key, "$gt", value)
    }

    /// `key` is greater than or equal to `value` (`$gte`).
    pub fn greater_than_or_equal_to(self, key: &str, value: impl Serialize) -> Self {
        self.constrain(key, "$gte", value)
    }

    /// `key` equals one of `values` (`$in`; for an array field: contains one of them).
    pub fn contained_in<T: Serialize>(
        self,
        key: &str,
        values: impl IntoIterator<Item = T>,
    ) -> Self {
        let values: Vec<T> = values.into_iter().collect();
        self.constrain(key, "$in", values)
    }

    /// `key` equals none of `values` (`$nin`).
    pub fn not_contained_in<T: Serialize>(
        self,
        key: &str,
        values: impl IntoIterator<Item = T>,
    ) -> Self {
        let values: Vec<T> = values.into_iter().collect();
        self.constrain(key, "$nin", values)
    }

    /// The array in `key` contains every one of `values` (`$all`).
    pub fn contains_all<T: Serialize>(
        self,
        key: &str,
        values: impl IntoIterator<Item = T>,
    ) -> Self {
        let values: Vec<T> = values.into_iter().collect();
        self.constrain(key, "$all", values)
    }

    /// The object has a value for `key` (`$exists: true`).
    pub fn exists(self, key: &str) -> Self {
        self.constrain(key, "$exists", true)
    }

    /// The object has no value for `key` (`$exists: false`).
    pub fn does_not_exist(self, key: &str) -> Self {
        self.constrain(key, "$exists", false)
    }

    /// The string in `key` starts with `prefix`, taken literally (`$regex: "^\Q...\E"`, as
    /// the Parse SDKs send it).
    pub fn starts_with(self, key: &str, prefix: &str) -> Self {
        self.constrain(key, "$regex", format!("^{}", quote_regex(prefix)))
    }

    /// The string in `key` matches the regular expression `pattern` (`$regex`).
    pub fn matches_regex(self, key: &str, pattern: &str) -> Self {
        self.constrain(key, "$regex", pattern)
    }

    /// The string in `key` matches `pattern` with `options` (`$options`, such as `"i"` for
    /// a case-insensitive match).
    pub fn matches_regex_with_options(self, key: &str, pattern: &str, options: &str) -> Self {
        self.constrain(key, "$regex", pattern)
            .constrain(key, "$options", options)
    }

    /// The pointer in `key` points to an object `query` finds (`$inQuery`).
    pub fn matches_query(self, key: &str, query: Query) -> Self {
        let inner = self.subquery(&query);
        self.constrain(key, "$inQuery", inner)
    }

    /// The pointer in `key` points to no object `query` finds (`$notInQuery`).
    pub fn does_not_match_query(self, key: &str, query: Query) -> Self {
        let inner = self.subquery(&query);
        self.constrain(key, "$notInQuery", inner)
    }

    /// The value of `key` equals the value of `query_key` in one of the objects `query`
    /// finds (`$select`).
    pub fn select(self, key: &str, query_key: &str, query: Query) -> Self {
        let inner = json!({"query": self.subquery(&query), "key": query_key});
        self.constrain(key, "$select", inner)
    }

    /// The value of `key` equals the value of `query_key` in none of the objects `query`
    /// finds (`$dontSelect`).
    pub fn dont_select(self, key: &str, query_key: &str, query: Query) -> Self {
        let inner = json!({"query": self.subquery(&query), "key": query_key});
        self.constrain(key, "$dontSelect", inner)
    }

    /// The objects in the relation `key` of `object` (`$relatedTo`); the query's class is
    /// the relation's target class.
    pub fn related_to(mut self, object: &Pointer, key: &str) -> Self {
        let value = json!({"object": object, "key": key});
        self.r#where.insert("$relatedTo".to_owned(), value);
        self
    }

    /// Sorts by distance from `point` to the GeoPoint in `key`, nearest first
    /// (`$nearSphere`).
    pub fn near(self, key: &str, point: GeoPoint) -> Self {
        self.constrain(key, "$nearSphere", point)
    }

    /// The GeoPoint in `key` is within `kilometers` of `point`, nearest first
    /// (`$nearSphere` with `$maxDistanceInKilometers`).
    pub fn within_kilometers(self, key: &str, point: GeoPoint, kilometers: f64) -> Self {
        self.constrain(key, "$nearSphere", point).constrain(
            key,
            "$maxDistanceInKilometers",
            kilometers,
        )
    }

    /// Every one of `queries` (their `where` only), or'ed: `$or` (and'ed with this query's
    /// other constraints). Called twice, both `$or`s must hold.
    pub fn or(self, queries: Vec<Query>) -> Self {
        self.combine("$or", queries)
    }

    /// Every one of `queries` (their `where` only) must hold: `$and`.
    pub fn and(self, queries: Vec<Query>) -> Self {
        self.combine("$and", queries)
    }

    fn combine(mut self, operator: &str, queries: Vec<Query>) -> Self {
        let clauses: Vec<Value> = queries
            .into_iter()
            .map(|query| {
                if let Some(error) = query.error {
                    self.error.get_or_insert(error);
                }
                Value::Object(query.r#where)
            })
            .collect();
        match (operator, self.r#where.get_mut(operator)) {
            ("$and", Some(Value::Array(existing))) => existing.extend(clauses),
            ("$or", Some(_)) => {
                let or = json!({"$or": clauses});
                match self.r#where.get_mut("$and") {
                    Some(Value::Array(and)) => and.push(or),
                    _ => {
                        self.r#where
                            .insert("$and".to_owned(), Value::Array(vec![or]));
                    }
                }
            }
            _ => {
                self.r#where
                    .insert(operator.to_owned(), Value::Array(clauses));
            }
        }
        self
    }

    /// `{"where": ..., "className": ...}` of a query inside this one.
    fn subquery(&self, query: &Query) -> Value {
        json!({"where": query.r#where, "className": query.class_name})
    }

    /// Sorts by `keys`, after any order already given: a key, `-key` for descending, or
    /// several separated by commas (`"-score,name"`).
    pub fn order(mut self, keys: &str) -> Self {
        self.order.extend(
            keys.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_owned),
        );
        self
    }

    /// Returns at most `limit` objects (Parse Server's default is 100).
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Skips the first `skip` objects.
    pub fn skip(mut self, skip: u64) -> Self {
        self.skip = Some(skip);
        self
    }

    /// Includes the objects the pointers in these keys point to (dotted for nested ones).
    pub fn include(mut self, keys: impl IntoKeys) -> Self {
        self.include.extend(keys.into_keys());
        self
    }

    /// Returns only these fields (and `objectId`, `createdAt`, `updatedAt`, `ACL`).
    pub fn keys(mut self, keys: impl IntoKeys) -> Self {
        self.keys.extend(keys.into_keys());
        self
    }

    /// Returns every field but these.
    pub fn exclude_keys(mut self, keys: impl IntoKeys) -> Self {
        self.exclude_keys.extend(keys.into_keys());
        self
    }

    /// The query parameters but `where`, as `(name, JSON or text)` pairs.
    fn options(&self, count: bool) -> Vec<(&'static str, Value)> {
        let mut options = Vec::new();
        let list = |keys: &[String]| Value::from(keys.join(","));
        if !self.order.is_empty() {
            options.push(("order", list(&self.order)));
        }
        if count {
            options.push(("count", Value::from(1)));
            options.push(("limit", Value::from(0)));
        } else {
            if let Some(limit) = self.limit {
                options.push(("limit", Value::from(limit)));
            }
            if let Some(skip) = self.skip {
                options.push(("skip", Value::from(skip)));
            }
        }
        if !self.include.is_empty() {
            options.push(("include", list(&self.include)));
        }
        if !self.keys.is_empty() {
            options.push(("keys", list(&self.keys)));
        }
        if !self.exclude_keys.is_empty() {
            options.push(("excludeKeys", list(&self.exclude_keys)));
        }
        options
    }

    /// The method, path and body of a find (or count): a GET with the parameters in the
    /// query string, or, when the `where` is long, a POST with `"_method": "GET"`.
    pub(crate) fn find_request(&self, count: bool) -> Result<(Method, String, Body), Error> {
        if let Some(error) = &self.error {
            return Err(Error::internal(error.clone()));
        }
        let path = format!("/classes/{}", segment("class name", &self.class_name)?);
        let options = self.options(count);
        let r#where = serde_json::to_string(&self.r#where).map_err(Error::internal)?;
        let mut target = String::with_capacity(path.len() + 2 * r#where.len() + 64);
        target.push_str(&path);
        target.push_str("?where=");
        let start = target.len();
        push_query_value(&mut target, &r#where);
        if target.len() - start > LONG_WHERE {
            let mut body = Map::new();
            body.insert("where".to_owned(), Value::Object(self.r#where.clone()));
            for (name, value) in options {
                body.insert(name.to_owned(), value);
            }
            body.insert("_method".to_owned(), Value::from("GET"));
            return Ok((Method::POST, path, Body::Json(Value::Object(body))));
        }
        for (name, value) in options {
            target.push('&');
            target.push_str(name);
            target.push('=');
            match value {
                Value::String(text) => push_query_value(&mut target, &text),
                other => push_query_value(&mut target, &other.to_string()),
            }
        }
        Ok((Method::GET, target, Body::None))
    }

    async fn run_find(&self, count: bool) -> Result<Value, Error> {
        let (method, path, body) = self.find_request(count)?;
        self.client.send(method, &path, body, Access::Read).await
    }

    /// The results, each the text of a JSON object as Parse Server answered it.
    async fn find_results(&self) -> Result<Vec<Box<RawValue>>, Error> {
        #[derive(Deserialize)]
        struct Found {
            results: Vec<Box<RawValue>>,
        }
        let (method, path, body) = self.find_request(false)?;
        let answer = self
            .client
            .send_raw(method.clone(), &path, body, Access::Read)
            .await?;
        let unexpected =
            |answer: &Value| unexpected(&format!("/classes/{}", self.class_name), answer);
        let Ok(found) = serde_json::from_slice::<Found>(&answer) else {
            let answer = self.client.answer_json(&answer, &method, &path)?;
            return Err(unexpected(&answer));
        };
        for result in &found.results {
            if !result.get().starts_with('{') {
                let result = serde_json::from_str(result.get()).unwrap_or(Value::Null);
                return Err(unexpected(&result));
            }
        }
        Ok(found.results)
    }

    /// Runs the query; the objects found, decoded as `T`.
    pub async fn find<T: DeserializeOwned + 'static>(&self) -> Result<Vec<T>, Error> {
        self.find_results()
            .await?
            .into_iter()
            .map(|result| decode_found(&self.class_name, result))
            .collect()
    }

    /// The first object the query finds (with `limit` 1), if any.
    pub async fn first<T: DeserializeOwned + 'static>(&self) -> Result<Option<T>, Error> {
        let query = self.clone().limit(1);
        let results = query.find_results().await?;
        let first = results.into_iter().next();
        first
            .map(|result| decode_found(&self.class_name, result))
            .transpose()
    }

    /// The object with id `object_id` (`GET /classes/<C>/<id>`; the query's `include` and
    /// `keys` apply, its constraints do not). A missing object fails with Parse's code 101.
    pub async fn get<T: DeserializeOwned + 'static>(&self, object_id: &str) -> Result<T, Error> {
        if let Some(error) = &self.error {
            return Err(Error::internal(error.clone()));
        }
        let mut path = format!(
            "/classes/{}/{}",
            segment("class name", &self.class_name)?,
            segment("object id", object_id)?
        );
        let mut parameters = Vec::new();
        for (name, keys) in [
            ("include", &self.include),
            ("keys", &self.keys),
            ("excludeKeys", &self.exclude_keys),
        ] {
            if !keys.is_empty() {
                parameters.push(format!("{name}={}", query_value(&keys.join(","))));
            }
        }
        if !parameters.is_empty() {
            path = format!("{path}?{}", parameters.join("&"));
        }
        let answer = self
            .client
            .send(Method::GET, &path, Body::None, Access::Read)
            .await?;
        match answer {
            Value::Object(map) => decode_result(&self.class_name, map),
            other => Err(unexpected(&path, &other)),
        }
    }

    /// How many objects the query matches (`count=1`, `limit=0`).
    pub async fn count(&self) -> Result<u64, Error> {
        let answer = self.run_find(true).await?;
        answer
            .get("count")
            .and_then(Value::as_u64)
            .ok_or_else(|| unexpected(&format!("/classes/{}", self.class_name), &answer))
    }

    /// Every object the query matches, read in pages of [`PAGE_SIZE`] by ascending
    /// `objectId` until none is left (so not limited to Parse Server's 100 or 1,000 per
    /// request). A query with an `order`, `skip` or `limit` cannot be paged this way and
    /// fails.
    pub async fn find_all<T: DeserializeOwned + 'static>(&self) -> Result<Vec<T>, Error> {
        let mut all = Vec::new();
        self.each(|object| {
            all.push(object);
            async { Ok(()) }
        })
        .await?;
        Ok(all)
    }

    /// Calls `f` with every object the query matches, in ascending `objectId` order, read
    /// in pages of [`PAGE_SIZE`] (see [`find_all`](Self::find_all)); stops at the first
    /// error `f` returns.
    pub async fn each<T, F, Fut>(&self, mut f: F) -> Result<(), Error>
    where
        T: DeserializeOwned + 'static,
        F: FnMut(T) -> Fut,
        Fut: Future<Output = Result<(), Error>>,
    {
        if !self.order.is_empty() || self.skip.is_some() || self.limit.is_some() {
            return Err(Error::internal(
                "cannot page through a query with an order, skip or limit (find_all and each \
                 read by ascending objectId)",
            ));
        }
        let mut last: Option<String> = None;
        loop {
            let mut page = self.clone().order("objectId").limit(PAGE_SIZE);
            if let Some(last) = &last {
                page = page.greater_than("objectId", last);
            }
            let results = page.find_results().await?;
            let full = results.len() as u64 >= PAGE_SIZE;
            for result in results {
                #[derive(Deserialize)]
                struct Id {
                    #[serde(rename = "objectId")]
                    object_id: Option<Value>,
                }
                let id = serde_json::from_str::<Id>(result.get())
                    .ok()
                    .and_then(|id| id.object_id);
                let Some(Value::String(id)) = id else {
                    let result = serde_json::from_str(result.get()).unwrap_or(Value::Null);
                    return Err(unexpected(
                        &format!("/classes/{}", self.class_name),
                        &result,
                    ));
                };
                last = Some(id);
                f(decode_found(&self.class_name, result)?).await?;
            }
            if !full {
                return Ok(());
            }
        }
    }
}

/// Decodes one result of a find, the text of a JSON object, as `T`: a
/// [`ParseObject`](crate::ParseObject) keeps the text, split into fields only when read (and
/// written back as it came when it is not), with its `className` added; other types decode
/// from the text directly, or, failing that, as [`decode_result`] does.
fn decode_found<T: DeserializeOwned + 'static>(
    class_name: &str,
    result: Box<RawValue>,
) -> Result<T, Error> {
    if crate::typed::is_parse_object::<T>() {
        let object = crate::ParseObject::fetched(Fields::unsplit(result, Some(class_name)));
        return Ok(
            crate::typed::same_type(object).unwrap_or_else(|_| unreachable!("T is ParseObject"))
        );
    }
    if let Ok(decoded) = serde_json::from_str(result.get()) {
        return Ok(decoded);
    }
    let map = serde_json::from_str(result.get()).map_err(Error::internal)?;
    decode_result(class_name, map)
}

/// Decodes one result as `T`, after adding its `className`; an error names the class and
/// the field.
///
/// The answer was parsed once already: a [`ParseObject`](crate::ParseObject) is made of its
/// values as they are, and other types decode from them directly; only to explain a
/// failure (or for a type that must read JSON text, such as one holding a `ParseObject`)
/// is the result written out and read again.
pub(crate) fn decode_result<T: DeserializeOwned + 'static>(
    class_name: &str,
    mut map: Map<String, Value>,
) -> Result<T, Error> {
    if !map.contains_key("className") {
        map.insert("className".to_owned(), Value::from(class_name));
    }
    if crate::typed::is_parse_object::<T>() {
        let object = crate::ParseObject::from_map(map);
        return Ok(
            crate::typed::same_type(object).unwrap_or_else(|_| unreachable!("T is ParseObject"))
        );
    }
    let value = Value::Object(map);
    if let Ok(decoded) = T::deserialize(&value) {
        return Ok(decoded);
    }
    let text = serde_json::to_string(&value).map_err(Error::internal)?;
    let mut deserializer = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = crate::object::without_position(error.inner());
        Error::new(if path.is_empty() || path == "." {
            format!("{class_name}: {message}")
        } else {
            format!("{class_name}: invalid field `{path}`: {message}")
        })
    })
}

/// `text` as a literal in a regular expression, as the Parse SDKs quote it: `\Q...\E`.
fn quote_regex(text: &str) -> String {
    format!("\\Q{}\\E", text.replace("\\E", "\\E\\\\E\\Q"))
}
