//! Small syntax checks shared by the modes: UUIDs and the normal form used to
//! compare origin URLs.

/// Whether `text` is a UUID in the 8-4-4-4-12 hex form.
pub fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A URL in the form used to compare an ingress service with the expected origin:
/// lower-case, without a trailing slash, with the scheme's default port made explicit.
pub fn normalize_origin(url: &str) -> String {
    let lower = url.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, rest) = match lower.split_once("://") {
        Some(parts) => parts,
        None => return lower,
    };
    let default_port = match scheme {
        "http" | "ws" => ":80",
        "https" => ":443",
        _ => "",
    };
    if default_port.is_empty() || rest.contains(':') {
        lower
    } else {
        format!("{scheme}://{rest}{default_port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids() {
        assert!(is_uuid("6ff42ae2-765d-4adf-8db7-aa8b61168b6a"));
        assert!(!is_uuid("6ff42ae2-765d-4adf-8db7-aa8b61168b6"));
        assert!(!is_uuid("my-tunnel"));
    }

    #[test]
    fn origins_compare_in_normal_form() {
        assert_eq!(
            normalize_origin("http://NGINX/"),
            normalize_origin("http://nginx:80")
        );
        assert_ne!(
            normalize_origin("http://nginx:8080"),
            normalize_origin("http://nginx:80")
        );
    }
}
