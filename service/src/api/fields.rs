//! Request text fields that never fail to parse. poem-openapi's own errors for a missing or
//! wrong-typed field do not name the field; a `TextField` records what was wrong instead, so
//! the handler can answer 400 naming the field, while the spec still says "required string,
//! at most MAX characters".

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;

use crate::users::FieldError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextField<const MAX: usize>(Result<String, Problem>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    Missing,
    NotAString,
}

impl<const MAX: usize> TextField<MAX> {
    /// The text, or the 400 that names `field`. Length and content are the domain's to judge.
    pub fn into_text(self, field: &'static str) -> Result<String, FieldError> {
        match self.0 {
            Ok(text) => Ok(text),
            Err(Problem::Missing) => Err(FieldError::new(field, "不能为空")),
            Err(Problem::NotAString) => Err(FieldError::new(field, "必须是字符串")),
        }
    }
}

impl<const MAX: usize> Type for TextField<MAX> {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        "string".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            min_length: Some(1),
            max_length: Some(MAX),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&String> {
        self.0.as_ref().ok()
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl<const MAX: usize> ParseFromJSON for TextField<MAX> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        Ok(Self(match value {
            None | Some(Value::Null) => Err(Problem::Missing),
            Some(Value::String(text)) => Ok(text),
            Some(_) => Err(Problem::NotAString),
        }))
    }
}

impl<const MAX: usize> ToJSON for TextField<MAX> {
    fn to_json(&self) -> Option<Value> {
        self.as_raw_value().cloned().map(Value::String)
    }
}
