//! Small syntax checks shared by the modes: UUIDs, hostnames, ingress service
//! values, and the normal form used to compare origin URLs.

/// Whether `text` is a UUID in the 8-4-4-4-12 hex form.
pub fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether `text` is a hostname an ingress rule may match: DNS labels of letters,
/// digits and inner hyphens, at least two labels, optionally a leading `*.`.
pub fn is_valid_hostname(text: &str) -> bool {
    let name = text.strip_prefix("*.").unwrap_or(text);
    let labels: Vec<&str> = name.split('.').collect();
    name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Why an ingress `service` value is not one cloudflared accepts, or `None` when
/// it is: an `http(s)://`, `tcp://`, `ssh://`, `rdp://`, `unix:` … URL with a host,
/// `http_status:NNN`, or one of the built-in services.
pub fn service_problem(service: &str) -> Option<String> {
    if let Some(code) = service.strip_prefix("http_status:") {
        return match code.parse::<u16>() {
            Ok(100..=599) => None,
            _ => Some(format!(
                "http_status needs a status code 100-599, got {code:?}"
            )),
        };
    }
    if matches!(service, "hello_world" | "bastion" | "socks5") {
        return None;
    }
    if service.starts_with("unix:") || service.starts_with("unix+tls:") {
        return None;
    }
    let Some((scheme, _)) = service.split_once("://") else {
        return Some("not a URL (scheme://host:port) nor http_status:NNN".to_owned());
    };
    const SCHEMES: [&str; 7] = ["http", "https", "tcp", "ssh", "rdp", "smb", "ws"];
    if !SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()) {
        return Some(format!("unsupported scheme {scheme:?}"));
    }
    match service.parse::<ureq::http::Uri>() {
        Ok(uri) if uri.host().is_some_and(|h| !h.is_empty()) => {
            if uri.path().len() > 1 {
                Some("a service URL cannot have a path (use the rule's `path` instead)".to_owned())
            } else {
                None
            }
        }
        Ok(_) => Some("the URL has no host".to_owned()),
        Err(e) => Some(format!("not a valid URL ({e})")),
    }
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
    fn hostnames() {
        assert!(is_valid_hostname("assistant.ledger-mind.org"));
        assert!(is_valid_hostname("*.example.com"));
        assert!(!is_valid_hostname("https://assistant.example.com"));
        assert!(!is_valid_hostname("bad_host.example.com"));
        assert!(!is_valid_hostname("localhost"));
    }

    #[test]
    fn services() {
        assert_eq!(service_problem("http://nginx:80"), None);
        assert_eq!(service_problem("http_status:404"), None);
        assert_eq!(service_problem("hello_world"), None);
        assert!(service_problem("http_status:4044").is_some());
        assert!(service_problem("nginx:80").is_some());
        assert!(service_problem("ftp://nginx").is_some());
        assert!(service_problem("http://").is_some());
        assert!(service_problem("http://nginx:80/app").is_some());
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
