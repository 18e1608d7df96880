//! Two spec-shape fixes poem-openapi does not offer out of the box.
//!
//! - [`Json`]: poem-openapi's `Json<T>` declares its bodies as `application/json; charset=utf-8`;
//!   the seed contract (and client generators keyed on it) use `application/json`. This payload
//!   declares `application/json`, still sends `charset=utf-8` in the header and accepts any
//!   `application/json` (or `+json`) request, parameters and case notwithstanding.
//! - [`Nullable`]: `#[oai(nullable)]` on an object field yields `nullable` beside an `allOf`
//!   without `type`, which strict OpenAPI 3.0 validators read as "never null". This declares
//!   the referenced component itself `type: object, nullable: true`, as the seed does.

use std::borrow::Cow;
use std::ops::{Deref, DerefMut};

use poem::{IntoResponse, Request, RequestBody, Response, Result};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use poem_openapi::{ApiResponse, impl_apirequest_for_payload};
use serde_json::Value;

/// A JSON body, declared as `application/json`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Json<T>(pub T);

type Inner<T> = poem_openapi::payload::Json<T>;

impl<T> Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Type> Payload for Json<T> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        <Inner<T> as Payload>::check_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: ParseFromJSON> ParsePayload for Json<T> {
    const IS_REQUIRED: bool = T::IS_REQUIRED;

    async fn from_request(request: &Request, body: &mut RequestBody) -> Result<Self> {
        let inner = <Inner<T> as ParsePayload>::from_request(request, body).await?;
        Ok(Self(inner.0))
    }
}

impl<T: ToJSON> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        poem_openapi::payload::Json(self.0).into_response()
    }
}

impl<T: ToJSON> ApiResponse for Json<T> {
    fn meta() -> MetaResponses {
        let mut meta = <Inner<T> as ApiResponse>::meta();
        for response in &mut meta.responses {
            for media in &mut response.content {
                media.content_type = <Self as Payload>::CONTENT_TYPE;
            }
        }
        meta
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl_apirequest_for_payload!(Json<T>, T: ParseFromJSON);

/// A field that is the object `T` or `null`, always present. `T`'s component is declared
/// `nullable`, so use this only for components that are nullable wherever they appear.
#[derive(Debug, Clone, PartialEq)]
pub struct Nullable<T>(pub Option<T>);

impl<T: Type> Type for Nullable<T> {
    const IS_REQUIRED: bool = true;

    type RawValueType = T::RawValueType;

    type RawElementValueType = T::RawElementValueType;

    fn name() -> Cow<'static, str> {
        format!("nullable_{}", T::name()).into()
    }

    fn schema_ref() -> MetaSchemaRef {
        match T::schema_ref() {
            MetaSchemaRef::Inline(mut schema) => {
                schema.nullable = true;
                MetaSchemaRef::Inline(schema)
            }
            reference => reference,
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
        if let MetaSchemaRef::Reference(name) = T::schema_ref()
            && let Some(schema) = registry.schemas.get_mut(&name)
        {
            schema.nullable = true;
        }
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref().and_then(Type::as_raw_value)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        match &self.0 {
            Some(value) => value.raw_element_iter(),
            None => Box::new(std::iter::empty()),
        }
    }
}

impl<T: ToJSON> ToJSON for Nullable<T> {
    fn to_json(&self) -> Option<Value> {
        Some(
            self.0
                .as_ref()
                .and_then(ToJSON::to_json)
                .unwrap_or(Value::Null),
        )
    }
}

impl<T: ParseFromJSON> ParseFromJSON for Nullable<T> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::Null => Ok(Self(None)),
            value => Ok(Self(Some(
                T::parse_from_json(Some(value)).map_err(ParseError::propagate)?,
            ))),
        }
    }
}
