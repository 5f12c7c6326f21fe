//! The YAML document of service types (`version: 1`, `service_types: [...]`): read with every
//! problem of shape reported at its path in the document, written in one deterministic form.
//!
//! Reading goes through `serde_yaml_ng::Value` rather than serde's derive, which stops at the first
//! unknown key or wrong type; here every one of them is collected.

use domain::api::service_types::{
    ChecklistItemSpec, RequiredPhotosSpec, ServiceTypeDocument, ServiceTypeSpec, SlaSpec,
};
use domain::{FieldError, FieldErrors};
use serde_yaml_ng::Value;

/// Where problems of the document as a whole (encoding, syntax, top-level shape) are reported.
pub const WHOLE: &str = "document";

const TEMPLATE_KEYS: [&str; 10] = [
    "code",
    "name",
    "description",
    "default_duration_minutes",
    "default_price_minor",
    "required_skills",
    "checklist",
    "required_photos",
    "approval_required",
    "sla_minutes",
];

/// A document read as far as its shape allows.
#[derive(Debug, Default)]
pub struct Reading {
    /// Each template that is a mapping, with its index in the document. A field refused for its
    /// type or absence holds a placeholder there.
    pub specs: Vec<(usize, ServiceTypeSpec)>,
    /// Problems of shape: encoding, syntax, version, unknown keys, wrong types, missing keys, codes
    /// used twice.
    pub errors: FieldErrors,
    /// Paths refused for their shape.
    broken: Vec<String>,
}

impl Reading {
    /// Whether `path` is at or below a value refused for its shape: what validation then says
    /// about it concerns a placeholder, not the document.
    pub fn is_broken(&self, path: &str) -> bool {
        self.broken.iter().any(|broken| {
            path.strip_prefix(broken.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
        })
    }
}

/// The document's templates sorted by code, keys in a fixed order: the same templates always give
/// the same bytes.
pub fn write(mut specs: Vec<ServiceTypeSpec>) -> Result<String, serde_yaml_ng::Error> {
    specs.sort_by(|a, b| a.code.cmp(&b.code));
    serde_yaml_ng::to_string(&ServiceTypeDocument { version: ServiceTypeDocument::VERSION, service_types: specs })
}

/// Problems as lines of `path: message`, for people reading a terminal.
pub fn lines(errors: &FieldErrors) -> Vec<String> {
    errors.fields.iter().flat_map(|(path, list)| list.iter().map(move |e| format!("{path}: {}", e.message))).collect()
}

pub fn read(source: &[u8]) -> Reading {
    let mut reader = Reading::default();
    let specs = reader.document(source);
    reader.specs = specs;
    reader.refuse_repeated_codes();
    reader
}

/// The fields of one mapping; unknown keys have been reported.
struct Fields<'v> {
    values: Vec<(&'v str, &'v Value)>,
}

impl<'v> Fields<'v> {
    fn get(&self, name: &str) -> Option<&'v Value> {
        self.values.iter().find(|(key, _)| *key == name).map(|(_, value)| *value)
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

impl Reading {
    fn refuse(&mut self, path: &str, code: &str, message: impl Into<String>) {
        let path = if path.is_empty() { WHOLE } else { path };
        self.errors.add(path, FieldError::new(code, message));
        self.broken.push(path.to_owned());
    }

    fn wrong_type(&mut self, path: &str, expected: &str) {
        self.refuse(path, "wrong_type", format!("expected {expected}"));
    }

    fn missing(&mut self, path: &str) {
        self.refuse(path, "missing", "is required");
    }

    fn document(&mut self, source: &[u8]) -> Vec<(usize, ServiceTypeSpec)> {
        let Ok(text) = std::str::from_utf8(source) else {
            self.refuse(WHOLE, "invalid_encoding", "is not UTF-8 text");
            return Vec::new();
        };
        let value: Value = match serde_yaml_ng::from_str(text) {
            Ok(value) => value,
            Err(error) => {
                self.refuse(WHOLE, "invalid_yaml", format!("is not valid YAML: {error}"));
                return Vec::new();
            }
        };
        let Some(fields) = self.fields("", &value, &["version", "service_types"]) else {
            return Vec::new();
        };
        match fields.get("version") {
            None => self.missing("version"),
            Some(Value::Number(n)) if n.as_u64() == Some(u64::from(ServiceTypeDocument::VERSION)) => {}
            Some(Value::Number(n)) if n.is_u64() || n.is_i64() => self.refuse(
                "version",
                "unsupported_version",
                format!("version {n} is not supported; this Fieldflow reads version {}", ServiceTypeDocument::VERSION),
            ),
            Some(_) => self.wrong_type("version", "an integer"),
        }
        let Some(list) = fields.get("service_types") else {
            self.missing("service_types");
            return Vec::new();
        };
        let Value::Sequence(items) = list else {
            self.wrong_type("service_types", "a list");
            return Vec::new();
        };
        if items.len() > ServiceTypeDocument::MAX_SERVICE_TYPES {
            self.refuse(
                "service_types",
                "too_many",
                format!("at most {} service types in one document", ServiceTypeDocument::MAX_SERVICE_TYPES),
            );
            return Vec::new();
        }
        items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| {
                self.template(&format!("service_types[{index}]"), item).map(|spec| (index, spec))
            })
            .collect()
    }

    /// The keys of a mapping that are known; every other key is reported as unknown.
    fn fields<'v>(&mut self, path: &str, value: &'v Value, known: &[&str]) -> Option<Fields<'v>> {
        let Value::Mapping(mapping) = value else {
            self.wrong_type(path, "a mapping");
            return None;
        };
        let mut fields = Fields { values: Vec::with_capacity(mapping.len()) };
        for (key, value) in mapping {
            match key {
                Value::String(name) if known.contains(&name.as_str()) => fields.values.push((name.as_str(), value)),
                Value::String(name) => self.refuse(&join(path, name), "unknown_key", "unknown key"),
                other => {
                    let shown = serde_yaml_ng::to_string(other).unwrap_or_default();
                    self.refuse(path, "unknown_key", format!("unknown key {}", shown.trim_end()));
                }
            }
        }
        Some(fields)
    }

    fn template(&mut self, path: &str, value: &Value) -> Option<ServiceTypeSpec> {
        let fields = self.fields(path, value, &TEMPLATE_KEYS)?;
        let at = |key: &str| join(path, key);
        let mut required_skills = Vec::new();
        for (index, skill) in self.list(&at("required_skills"), fields.get("required_skills")).iter().enumerate() {
            required_skills.push(self.string(&format!("{path}.required_skills[{index}]"), Some(skill)));
        }
        let mut checklist = Vec::new();
        for (index, item) in self.list(&at("checklist"), fields.get("checklist")).iter().enumerate() {
            checklist.push(self.checklist_item(&format!("{path}.checklist[{index}]"), item));
        }
        Some(ServiceTypeSpec {
            code: self.string(&at("code"), fields.get("code")),
            name: self.string(&at("name"), fields.get("name")),
            description: self.optional_string(&at("description"), fields.get("description")),
            default_duration_minutes: self
                .integer(&at("default_duration_minutes"), fields.get("default_duration_minutes")),
            default_price_minor: self
                .optional_integer(&at("default_price_minor"), fields.get("default_price_minor"))
                .unwrap_or(0),
            required_skills,
            checklist,
            required_photos: self.photos(&at("required_photos"), fields.get("required_photos")),
            approval_required: self.boolean(&at("approval_required"), fields.get("approval_required")).unwrap_or(false),
            sla_minutes: self.sla(&at("sla_minutes"), fields.get("sla_minutes")),
        })
    }

    fn checklist_item(&mut self, path: &str, value: &Value) -> ChecklistItemSpec {
        let placeholder = ChecklistItemSpec { id: String::new(), label: String::new(), required: true };
        let Some(fields) = self.fields(path, value, &["id", "label", "required"]) else {
            return placeholder;
        };
        ChecklistItemSpec {
            id: self.string(&join(path, "id"), fields.get("id")),
            label: self.string(&join(path, "label"), fields.get("label")),
            required: self.boolean(&join(path, "required"), fields.get("required")).unwrap_or(true),
        }
    }

    fn photos(&mut self, path: &str, value: Option<&Value>) -> RequiredPhotosSpec {
        let Some(fields) = value.and_then(|value| self.fields(path, value, &["before", "after"])) else {
            return RequiredPhotosSpec::default();
        };
        RequiredPhotosSpec {
            before: self.optional_integer(&join(path, "before"), fields.get("before")).unwrap_or(0),
            after: self.optional_integer(&join(path, "after"), fields.get("after")).unwrap_or(0),
        }
    }

    fn sla(&mut self, path: &str, value: Option<&Value>) -> SlaSpec {
        let Some(fields) = value.and_then(|value| self.fields(path, value, &["urgent", "high", "normal", "low"]))
        else {
            return SlaSpec::default();
        };
        SlaSpec {
            urgent: self.optional_integer(&join(path, "urgent"), fields.get("urgent")),
            high: self.optional_integer(&join(path, "high"), fields.get("high")),
            normal: self.optional_integer(&join(path, "normal"), fields.get("normal")),
            low: self.optional_integer(&join(path, "low"), fields.get("low")),
        }
    }

    fn list<'v>(&mut self, path: &str, value: Option<&'v Value>) -> &'v [Value] {
        match value {
            None => &[],
            Some(Value::Sequence(items)) => items,
            Some(_) => {
                self.wrong_type(path, "a list");
                &[]
            }
        }
    }

    /// A required string; the empty placeholder when it is absent or not a string.
    fn string(&mut self, path: &str, value: Option<&Value>) -> String {
        match value {
            Some(Value::String(text)) => text.clone(),
            Some(_) => {
                self.wrong_type(path, "a string");
                String::new()
            }
            None => {
                self.missing(path);
                String::new()
            }
        }
    }

    /// An optional string; `null` counts as absent.
    fn optional_string(&mut self, path: &str, value: Option<&Value>) -> Option<String> {
        match value {
            None | Some(Value::Null) => None,
            Some(_) => Some(self.string(path, value)),
        }
    }

    /// A required integer; the placeholder 0 when it is absent or not an integer.
    fn integer(&mut self, path: &str, value: Option<&Value>) -> i64 {
        match value {
            None => {
                self.missing(path);
                0
            }
            Some(_) => self.optional_integer(path, value).unwrap_or(0),
        }
    }

    /// An optional integer; `null` counts as absent.
    fn optional_integer(&mut self, path: &str, value: Option<&Value>) -> Option<i64> {
        match value {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => match n.as_i64() {
                Some(n) => Some(n),
                None if n.is_u64() => {
                    self.refuse(path, "out_of_range", "is too large");
                    None
                }
                None => {
                    self.wrong_type(path, "an integer");
                    None
                }
            },
            Some(_) => {
                self.wrong_type(path, "an integer");
                None
            }
        }
    }

    fn boolean(&mut self, path: &str, value: Option<&Value>) -> Option<bool> {
        match value {
            None => None,
            Some(Value::Bool(flag)) => Some(*flag),
            Some(_) => {
                self.wrong_type(path, "a boolean (true or false)");
                None
            }
        }
    }

    /// Codes are the templates' identity on import, so one document may use each only once.
    fn refuse_repeated_codes(&mut self) {
        let mut seen: Vec<(&str, usize)> = Vec::new();
        let mut repeated: Vec<(String, String)> = Vec::new();
        for (index, spec) in &self.specs {
            let path = format!("service_types[{index}].code");
            if spec.code.is_empty() || self.is_broken(&path) {
                continue;
            }
            match seen.iter().find(|(code, _)| *code == spec.code) {
                Some((_, first)) => repeated
                    .push((path, format!("duplicate code \"{}\"; service_types[{first}] has it too", spec.code))),
                None => seen.push((&spec.code, *index)),
            }
        }
        for (path, message) in repeated {
            self.errors.add(&path, FieldError::new("duplicate_code", message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(source: &str) -> Vec<String> {
        lines(&read(source.as_bytes()).errors)
    }

    #[test]
    fn a_written_document_reads_back_to_the_same_specs() {
        let spec: ServiceTypeSpec = serde_json::from_value(serde_json::json!({
            "code": "b", "name": "Panel: check \"#1\"", "description": "Two\nlines", "default_duration_minutes": 60,
            "default_price_minor": 100, "required_skills": ["electrical", "true", "123"],
            "checklist": [{"id": "x", "label": "yes", "required": false}], "required_photos": {"before": 1},
            "approval_required": true, "sla_minutes": {"urgent": 60, "low": 600}
        }))
        .unwrap();
        let other = ServiceTypeSpec { code: "a".into(), description: None, ..spec.clone() };
        let yaml = write(vec![spec.clone(), other.clone()]).unwrap();
        let reading = read(yaml.as_bytes());
        assert!(reading.errors.is_empty(), "{:?}\n{yaml}", reading.errors);
        let specs: Vec<ServiceTypeSpec> = reading.specs.into_iter().map(|(_, spec)| spec).collect();
        assert_eq!(specs, [other, spec], "sorted by code");
        assert!(yaml.starts_with("version: 1\nservice_types:\n"), "{yaml}");
    }

    #[test]
    fn every_problem_of_shape_is_reported_at_its_path() {
        let source = "
version: 1
colour: red
service_types:
  - code: a
    name: A
    default_duration_minutes: 1.5
    approval_required: yes
    checklist:
      - { id: 7, label: L, required: \"no\", extra: 1 }
      - just text
    required_photos: { before: many }
    sla_minutes: [1]
  - 42
  - name: B
    default_duration_minutes: 18446744073709551615
  - { code: a, name: Again, default_duration_minutes: 5, required_skills: plumbing }
";
        assert_eq!(
            problems(source),
            [
                "colour: unknown key",
                "service_types[0].approval_required: expected a boolean (true or false)",
                "service_types[0].checklist[0].extra: unknown key",
                "service_types[0].checklist[0].id: expected a string",
                "service_types[0].checklist[0].required: expected a boolean (true or false)",
                "service_types[0].checklist[1]: expected a mapping",
                "service_types[0].default_duration_minutes: expected an integer",
                "service_types[0].required_photos.before: expected an integer",
                "service_types[0].sla_minutes: expected a mapping",
                "service_types[1]: expected a mapping",
                "service_types[2].code: is required",
                "service_types[2].default_duration_minutes: is too large",
                "service_types[3].code: duplicate code \"a\"; service_types[0] has it too",
                "service_types[3].required_skills: expected a list",
            ]
        );
        let reading = read(source.as_bytes());
        assert!(reading.is_broken("service_types[0].checklist[1].label"));
        assert!(reading.is_broken("service_types[2].code"));
        assert!(!reading.is_broken("service_types[2].name"));
        assert!(!reading.is_broken("service_types[0].checklist[10]"), "a prefix of digits is not a parent");
    }

    #[test]
    fn the_document_itself_is_checked() {
        assert_eq!(problems(""), ["document: expected a mapping"]);
        assert_eq!(
            problems("version: 2\nservice_types: []"),
            ["version: version 2 is not supported; this Fieldflow reads version 1"]
        );
        assert_eq!(problems("service_types: {}"), ["service_types: expected a list", "version: is required"]);
        let syntax = problems("version: 1\nservice_types: [\n");
        assert_eq!(syntax.len(), 1);
        assert!(syntax[0].starts_with("document: is not valid YAML: ") && syntax[0].contains("line"), "{syntax:?}");
        assert_eq!(problems("version: 1\nversion: 1\nservice_types: []").len(), 1, "a repeated key is refused");
        assert_eq!(read(b"\xff\xfe").errors.fields["document"][0].code, "invalid_encoding");
    }
}
