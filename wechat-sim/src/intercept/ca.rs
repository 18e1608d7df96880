//! The simulator's certificate authority: generated at start (or loaded from PEM files) and
//! used to sign one leaf certificate that covers every intercepted WeChat host.

use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A CA given as PEM text (`--ca-cert` / `--ca-key`), so that a team can install it once in
/// its trust stores and keep it across restarts.
#[derive(Clone, PartialEq, Eq)]
pub struct CaPem {
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for CaPem {
    // The key is a secret of the operator's; it never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaPem")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"(redacted)")
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("invalid CA key: {0}")]
    Key(rcgen::Error),
    #[error("invalid CA certificate: {0}")]
    Cert(rcgen::Error),
    #[error("cannot issue the WeChat host certificate: {0}")]
    Leaf(rcgen::Error),
    #[error("cannot build the TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
}

/// The CA certificate clients trust and the TLS configuration that presents the leaf.
pub struct Authority {
    pub cert_pem: String,
    pub tls: Arc<ServerConfig>,
}

const DAY: Duration = Duration::from_secs(86_400);

impl Authority {
    pub fn new(ca: Option<&CaPem>, hosts: &[String]) -> Result<Self, CaError> {
        let (cert_pem, issuer) = match ca {
            Some(ca) => {
                let key = KeyPair::from_pem(&ca.key_pem).map_err(CaError::Key)?;
                let issuer = Issuer::from_ca_cert_pem(&ca.cert_pem, key).map_err(CaError::Cert)?;
                (ca.cert_pem.clone(), issuer)
            }
            None => generate_ca()?,
        };
        let leaf_key = KeyPair::generate().map_err(CaError::Leaf)?;
        let mut names: Vec<String> = hosts.to_vec();
        // Direct tests of the TLS listener connect by loopback name or address.
        names.extend(["localhost".to_owned(), "127.0.0.1".to_owned()]);
        let mut params = CertificateParams::new(names).map_err(CaError::Leaf)?;
        params.distinguished_name.push(
            DnType::CommonName,
            hosts.first().map_or("wechat-sim", |h| h),
        );
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        // Python 3.13 verifies strictly (VERIFY_X509_STRICT) and wants the authority key id.
        params.use_authority_key_identifier_extension = true;
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - DAY;
        // Under 398 days, the longest leaf lifetime Apple and Chrome clients accept.
        params.not_after = now + DAY * 397;
        let leaf = params
            .signed_by(&leaf_key, &issuer)
            .map_err(CaError::Leaf)?;

        let ca_der = pem_to_der(&cert_pem);
        let mut chain = vec![leaf.der().clone()];
        chain.extend(ca_der);
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut tls = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            cert_pem,
            tls: Arc::new(tls),
        })
    }
}

fn generate_ca() -> Result<(String, Issuer<'static, KeyPair>), CaError> {
    let key = KeyPair::generate().map_err(CaError::Leaf)?;
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "wechat-sim local CA");
    name.push(DnType::OrganizationName, "wechat-sim");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - DAY;
    params.not_after = now + DAY * 3650;
    let cert = params.self_signed(&key).map_err(CaError::Leaf)?;
    Ok((cert.pem(), Issuer::new(params, key)))
}

/// The DER certificates of a PEM text, in order (a loaded CA file may hold a chain).
fn pem_to_der(pem_text: &str) -> Vec<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem_text.as_bytes())
        .filter_map(Result::ok)
        .collect()
}
