//! Which route template serves a path: exact paths by one lookup, paths with `{parameters}`
//! segment by segment. One matcher for the 405's `Allow` header (`api/`) and the metrics'
//! route label (`meters`), so `/api/collections/x/records/y` is the same route to both.

use std::collections::HashMap;

#[derive(Debug)]
pub struct RouteTable<T> {
    /// Paths without parameters.
    exact: HashMap<String, T>,
    /// Paths with `{parameters}`, as segments (`None` stands for a parameter).
    templates: Vec<(Vec<Option<String>>, T)>,
}

impl<T> Default for RouteTable<T> {
    fn default() -> Self {
        Self {
            exact: HashMap::new(),
            templates: Vec::new(),
        }
    }
}

impl<T> RouteTable<T> {
    /// `template` as the OpenAPI document writes it (`/a/{b}/c`).
    pub fn insert(&mut self, template: &str, value: T) {
        if template.contains('{') {
            let segments = template
                .split('/')
                .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                .collect();
            self.templates.push((segments, value));
        } else {
            self.exact.insert(template.to_owned(), value);
        }
    }

    pub fn get(&self, path: &str) -> Option<&T> {
        if let Some(value) = self.exact.get(path) {
            return Some(value);
        }
        if self.templates.is_empty() {
            return None;
        }
        let segments: Vec<&str> = path.split('/').collect();
        self.templates
            .iter()
            .find(|(template, _)| {
                template.len() == segments.len()
                    && template
                        .iter()
                        .zip(&segments)
                        .all(|(t, s)| t.as_deref().is_none_or(|t| t == *s))
            })
            .map(|(_, value)| value)
    }
}

#[cfg(test)]
mod tests {
    use super::RouteTable;

    #[test]
    fn parameters_match_one_segment_each() {
        let mut table = RouteTable::default();
        table.insert("/a/{x}/c", 1);
        table.insert("/a/b", 2);
        assert_eq!(table.get("/a/b"), Some(&2));
        assert_eq!(table.get("/a/anything/c"), Some(&1));
        assert_eq!(table.get("/a/x/y/c"), None);
        assert_eq!(table.get("/a/x/d"), None);
    }
}
