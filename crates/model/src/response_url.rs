//! Where a CloudFormation response may be sent. The response names the clone, its endpoint
//! and its secret, so it goes only to CloudFormation's own response bucket: a pre-signed
//! S3 URL on `cloudformation-custom-resource-response-<region without hyphens>`, at
//! `s3.amazonaws.com` or `s3[.-]<region>.amazonaws.com` (`.com.cn` in China). Those are the
//! forms CloudFormation's requests carry; AWS documents no list of them, so the set is
//! unverified and kept as narrow as the forms seen. A local emulator's
//! `http://127.0.0.1:<port>/…` is allowed only when the deployment says so
//! (`ALLOW_LOCAL_RESPONSE_URLS=true`, which the template never sets).

/// The bucket prefix of CloudFormation's response URLs.
const BUCKET_PREFIX: &str = "cloudformation-custom-resource-response-";

/// Whether a response may be sent to `url`; the error says why not.
pub fn check_response_url(url: &str, allow_local: bool) -> Result<(), String> {
    if allow_local && is_local(url) {
        return Ok(());
    }
    let rest = url
        .strip_prefix("https://")
        .ok_or("it is not an https URL")?;
    let (host, path) = rest.split_at(rest.find('/').ok_or("it has no path")?);
    if path.len() < 2 {
        return Err("it has no path".into());
    }
    let host = host.to_ascii_lowercase();
    let suffix = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))
        .ok_or_else(|| format!("{host} is not an amazonaws.com host"))?;
    let (bucket, endpoint) = suffix
        .split_once('.')
        .ok_or_else(|| format!("{host} is not an S3 host"))?;
    let region_key = bucket
        .strip_prefix(BUCKET_PREFIX)
        .filter(|key| !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric()))
        .ok_or_else(|| format!("{host} is not CloudFormation's response bucket"))?;
    let region = match endpoint {
        "s3" => None,
        _ => Some(
            endpoint
                .strip_prefix("s3.")
                .or_else(|| endpoint.strip_prefix("s3-"))
                .ok_or_else(|| format!("{host} is not an S3 endpoint"))?,
        ),
    };
    if let Some(region) = region {
        let well_formed = !region.is_empty()
            && region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !well_formed || region.replace('-', "") != region_key {
            return Err(format!(
                "{host} names region {region}, not the bucket's {region_key}"
            ));
        }
    }
    Ok(())
}

fn is_local(url: &str) -> bool {
    url.strip_prefix("http://127.0.0.1")
        .is_some_and(|rest| rest.starts_with(':') || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudformations_response_urls_pass() {
        for url in [
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws%3Acloudformation/x?X-Amz-Signature=1",
            "https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/arn/x",
            "https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/arn/x",
            "https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/arn/x",
        ] {
            assert_eq!(check_response_url(url, false), Ok(()), "{url}");
        }
    }

    #[test]
    fn any_other_url_is_refused() {
        for url in [
            "http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
            "https://attacker.example/x",
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com.attacker.example/x",
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com@attacker.example/x",
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com:8443/x",
            "https://my-bucket.s3.amazonaws.com/x",
            "https://cloudformation-custom-resource-response-useast1.s3-eu-west-1.amazonaws.com/x",
            "https://cloudformation-custom-resource-response-.s3.amazonaws.com/x",
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com",
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/",
            "http://127.0.0.1:8080/x",
        ] {
            assert!(check_response_url(url, false).is_err(), "{url}");
        }
    }

    #[test]
    fn a_local_emulator_is_allowed_only_when_asked_for() {
        assert!(check_response_url("http://127.0.0.1:8080/create", true).is_ok());
        assert!(check_response_url("http://127.0.0.1/create", true).is_ok());
        assert!(check_response_url("http://127.0.0.1.attacker.example/x", true).is_err());
        assert!(check_response_url("http://localhost:8080/x", true).is_err());
        assert!(check_response_url("http://127.0.0.1:8080/create", false).is_err());
    }
}
