//! The control API's part of interception: the CA certificate clients must trust.

use std::sync::Arc;

use poem_openapi::payload::PlainText;
use poem_openapi::{ApiResponse, OpenApi, Tags};

use crate::sim::Sim;

#[derive(Tags)]
enum Tag {
    /// The intercepting proxy and TLS listener.
    Intercept,
}

#[derive(ApiResponse)]
enum CaCertificate {
    /// The CA certificate (PEM) that signs the WeChat hosts' certificate.
    #[oai(status = 200, content_type = "application/x-pem-file")]
    Pem(PlainText<String>),
}

pub struct InterceptApi {
    pub sim: Arc<Sim>,
}

#[OpenApi]
impl InterceptApi {
    /// The simulator's CA certificate: add it to the client's trust store (REQUESTS_CA_BUNDLE,
    /// NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, a Java truststore) to use the proxy or TLS listener.
    #[oai(
        path = "/ca.pem",
        method = "get",
        tag = "Tag::Intercept",
        operation_id = "caCertificate"
    )]
    async fn ca_pem(&self) -> CaCertificate {
        CaCertificate::Pem(PlainText(self.sim.ca_pem.clone()))
    }
}
