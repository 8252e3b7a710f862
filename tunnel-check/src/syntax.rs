//! The normal form used to compare origin URLs.

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
